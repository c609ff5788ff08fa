"""snag analyze / snag rules: the default pack on real scenarios (live and snag-dump cores, on a
3.11 and a 3.12+), a team rule via --rules, rules that fail / loop / allocate reported in `errors`
while the others still report, --fail-on exit codes, reports and the DOT graph.
The per-rule fire/silent matrix is `snag rules test` (case rules-test, split by -k rules-test-ID)."""
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EXAMPLE_RULES = os.path.join(h.SOURCE_DIR, "examples", "rules")
DEFAULT_RULES = os.path.join(h.SOURCE_DIR, "rules")


def pythons():
    """pyenv 3.11.x and 3.12.x (the ones the rule specs name)."""
    found = [i for i in h.interpreters(extra=False) if i.version[:2] in ((3, 11), (3, 12))]
    if len({i.version[:2] for i in found}) < 2:
        h.skip("needs pyenv CPython 3.11 and 3.12")
    return found


def analyze(target, *args):
    r = h.snag("analyze", target, "--format", "json", *args)
    h.check(r.returncode in (0, 1), "snag analyze exited %d: %s" % (r.returncode, r.stderr[-1500:]))
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        raise h.Failure("snag analyze printed no JSON: %r" % r.stdout[:500])


def findings(result, rule):
    return [f for f in result["findings"] if f["rule"] == rule]


@h.case("deadlock-live-and-core")
def test_deadlock():
    for interp in pythons():
        check_deadlock(interp)


def check_deadlock(interp):
    with h.py_scenario(interp, "py_deadlock_rlock.py") as s:
        truth_tids = sorted(t["native_id"] for t in s.truth["threads"] if t["name"] in ("T1", "T2"))
        core = os.path.join(s.dir, "core")
        h.snag("dump", s.pid, "-o", core, check=True)
        for target in (str(s.pid), core):
            code, result = analyze(target, "--duration", "0.5")
            h.check(code == 1, "%s %s: exit %d, want 1 (an error finding)" % (interp.label, target, code))
            dl = findings(result, "python-deadlock")
            h.check(len(dl) == 1, "%s %s: python-deadlock findings %s" % (interp.label, target, dl))
            h.check(sorted(dl[0]["threads"]) == truth_tids,
                    "%s: cycle threads %s, truth %s" % (interp.label, dl[0]["threads"], truth_tids))
            lines = sorted(f["line"] for f in dl[0]["frames"])
            h.check(len(lines) == 2 and all(l > 0 for l in lines), "frames %s" % dl[0]["frames"])
            h.check(dl[0]["bucket"].startswith("python-deadlock-"), "bucket %s" % dl[0]["bucket"])
            h.check(result["errors"] == [], "errors %s" % result["errors"])
            h.check("python-deadlock" in result["rules_run"], "rules_run %s" % result["rules_run"])
            h.check(not findings(result, "spiking-thread"), "no spiking thread in a deadlock")
        # The same bug gives the same bucket live and in the core.
        b_live = findings(analyze(str(s.pid), "--duration", "0")[1], "python-deadlock")[0]["bucket"]
        b_core = findings(analyze(core)[1], "python-deadlock")[0]["bucket"]
        h.check(b_live == b_core, "buckets differ: %s %s" % (b_live, b_core))


@h.case("spiking-thread-negative-deadlock")
def test_spiking():
    for interp in pythons():
        check_spiking(interp)


def check_spiking(interp):
    with h.py_scenario(interp, "py_threads.py") as s:
        code, result = analyze(str(s.pid), "--duration", "1")
        spikes = findings(result, "spiking-thread")
        h.check(len(spikes) == 1 and "worker-1" in spikes[0]["message"], "%s: %s" % (interp.label, spikes))
        h.check(not findings(result, "python-deadlock"), "no deadlock in py_threads")
        h.check(not findings(result, "blocked-threads"), "a spinning process is no hang")


@h.case("free-threaded-deadlock-and-spike")
def test_free_threaded():
    """The same deadlock (live and snag dump core) and spinning thread on a free-threaded 3.13t."""
    found = h.free_threaded_interpreters()
    if not found:
        h.skip("no free-threaded CPython in %s (`make python-ft` builds 3.13t once)" % h.CACHE)
    for interp in found:
        check_deadlock(interp)
        check_spiking(interp)


@h.case("team-rule-via-rules")
def test_team_rule():
    interp = pythons()[-1]
    with h.py_scenario(interp, "py_exception_deadlock.py") as s:
        code, result = analyze(str(s.pid), "--rules", EXAMPLE_RULES, "--duration", "0")
        team = findings(result, "ledger-audit-stuck")
        h.check(len(team) == 1 and "auditor" in team[0]["message"], "team rule: %s" % team)
        code, result = analyze(str(s.pid), "--rules", EXAMPLE_RULES, "--select", "team", "--duration", "0")
        h.check({f["rule"] for f in result["findings"]} == {"ledger-audit-stuck"},
                "--select team: %s" % result["findings"])
        code, result = analyze(str(s.pid), "--rules", EXAMPLE_RULES, "--duration", "0",
                               "--arg", "ledger-audit-stuck.function=no_such_function")
        h.check(not findings(result, "ledger-audit-stuck"), "--arg changes what the rule looks for")


@h.case("children-pool-busy-worker")
def test_children():
    """--children: one report for a pool; only the spinning worker is named by the CPU rules."""
    for interp in pythons():
        with h.py_scenario(interp, "py_pool_busy.py") as s:
            spinning, workers = s.truth["spinning_pid"], s.truth["worker_pids"]
            h.check(spinning in workers and len(workers) == 5, "truth %s" % s.truth)
            code, result = analyze(str(s.pid), "--children", "--duration", "1")
            analysed = {p["pid"] for p in result["processes"]}
            h.check(analysed >= set(workers) | {s.pid}, "%s: processes %s, workers %s" % (interp.label, analysed, workers))
            h.check(result["target"]["children"] == len(result["processes"]) - 1, "target %s" % result["target"])
            for rule in ("busy-loop", "spiking-thread"):
                found = findings(result, rule)
                h.check([f["pid"] for f in found] == [spinning],
                        "%s %s: pids %s, spinning worker %d" % (interp.label, rule, [f["pid"] for f in found], spinning))
                # The snapshot may catch the loop inside settled(); reconcile_forever is on the stack.
                functions = [f["function"] for f in found[0]["frames"]]
                h.check("reconcile_forever" in functions[:2], "%s frames %s" % (rule, functions))
            # Each process's Python stacks are sampled: the loop is in all 5 samples of the worker.
            busy = findings(result, "busy-loop")[0]
            h.check(busy["evidence"]["samples"] == 5 and "5/5 samples" in busy["message"],
                    "busy-loop evidence %s: %s" % (busy["evidence"], busy["message"]))
            h.check(result["errors"] == [], "errors %s" % result["errors"])
            r = h.snag("analyze", str(s.pid), "--children", "--duration", "1", "--select", "busy-loop")
            h.check(r.returncode == 0 and ("pid %d: " % spinning) in r.stdout and "process tree: " in r.stdout,
                    "text report: %s" % r.stdout[:1500])
            r = h.snag("analyze", str(s.pid), "--children", "--duration", "0", "--format", "markdown")
            h.check("- pid: " in r.stdout, "markdown report names pids: %s" % r.stdout[:1500])
    r = h.snag("analyze", "/no/such/core", "--children")
    h.check(r.returncode == 2 and "--children needs a live PID" in r.stderr, r.stderr)


@h.case("notes-once-per-analysis")
def test_notes_once():
    """A gcore core has zero CPU times: active-threads, spiking-thread and busy-loop each see it,
    the report says it once and names the three rules."""
    interp = pythons()[0]
    with h.py_scenario(interp, "py_threads.py") as s:
        core = h.gcore(s.pid, os.path.join(s.dir, "gcore.core"))
    code, result = analyze(core)
    zeros = [n for n in result["notes"] if "gcore writes zeros" in n["message"]]
    h.check(len(zeros) == 1, "one note for the zero CPU times, got %s" % result["notes"])
    h.check({"active-threads", "spiking-thread", "busy-loop"} <= set(zeros[0]["rules"]), "rules %s" % zeros[0])
    h.check(len({n["message"] for n in result["notes"]}) == len(result["notes"]), "a note repeated: %s" % result["notes"])
    text = h.snag("analyze", core).stdout
    h.check(text.count("gcore writes zeros") == 1 and "note (active-threads, " in text, "text report: %s" % text[-1500:])


@h.case("probable-owner-of-a-lock")
def test_probable_owner():
    """A plain Lock held by a thread blocked in a socket read: one wait chain, the waiter, the
    probable owner (its open `with` block) and the socket's peer; no hang, no deadlock."""
    for interp in pythons():
        with h.py_scenario(interp, "py_lock_held_in_io.py") as s:
            tids = {t["name"]: t["native_id"] for t in s.truth["threads"]}
            core = os.path.join(s.dir, "core")
            h.snag("dump", s.pid, "-o", core, check=True)
            for target in (str(s.pid), core):
                code, result = analyze(target, "--duration", "0.3")
                loud = [f for f in result["findings"] if f["severity"] in ("warning", "error", "critical")]
                h.check([f["rule"] for f in loud] == ["wait-chain"], "%s %s: %s" % (interp.label, target, loud))
                f = loud[0]
                h.check(f["threads"] == [tids["worker"], tids["refresher"]], "chain %s, truth %s" % (f["threads"], tids))
                h.check(f["frames"][0]["function"] == "render_page", "subject frame %s" % f["frames"])
                for text in ("worker (tid %d) waits for Lock" % tids["worker"], "probable owner refresher",
                             "`with` block is open at fetch_rates", "which probably holds it",
                             "on a tcp socket connected to %s" % s.truth["upstream"]):
                    h.check(text in f["message"], "%s %s: %r not in %r" % (interp.label, target, text, f["message"]))
                owners = f["evidence"]["probable_owners"]
                h.check(len(owners) == 1 and owners[0]["owner"] == tids["refresher"]
                        and owners[0]["owner_frame"].startswith("fetch_rates"), "evidence %s" % owners)


def _function_lines(scenario, name):
    """First and last line of def name in a scenario file."""
    import ast
    with open(os.path.join(h.SCENARIOS, scenario)) as f:
        tree = ast.parse(f.read())
    fn = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name][0]
    return fn.lineno, fn.end_lineno


@h.case("busy-loop-stack-samples")
def test_busy_loop_samples():
    """Live, busy-loop samples the Python stacks over --duration and names the frames in every
    sample (the loop's function with file:line); a thread busy in different code each sample is
    only a spiking thread. Cores: one snapshot and the core's CPU times, said in the evidence."""
    first, last = _function_lines("py_busy_zip.py", "find_archive")
    for interp in pythons():
        with h.py_scenario(interp, "py_busy_zip.py") as s:
            core = os.path.join(s.dir, "core")
            # Five samples a second: --duration 2 takes 10.
            code, result = analyze(str(s.pid), "--select", "busy-loop", "--duration", "2")
            # Dumped after the sampling: the loop has then spun >= 1 s, so the core's CPU times count
            # (a dump at once could hold less than busy-loop's min_seconds, 0.1 s, and say nothing).
            h.snag("dump", s.pid, "-o", core, check=True)
            found = findings(result, "busy-loop")
            h.check(len(found) == 1, "%s live: %s %s" % (interp.label, found, result["notes"]))
            f = found[0]
            top = f["frames"][0]
            h.check(top["function"] == "find_archive" and top["file"].endswith("py_busy_zip.py")
                    and first < top["line"] <= last, "%s: loop frame %s, find_archive is lines %d-%d" % (interp.label, top, first, last))
            h.check(f["frames"][1]["function"] == "archive_finder", "caller %s" % f["frames"][1])
            h.check("find_archive (py_busy_zip.py:%d)" % top["line"] in f["message"] and "10/10 samples" in f["message"],
                    f["message"])
            ev = f["evidence"]
            h.check(ev["samples"] == 10 and ev["of"] == 10 and all(first < l <= last for l in ev["lines"]), "evidence %s" % ev)
        code, result = analyze(core, "--select", "busy-loop")
        found = findings(result, "busy-loop")
        h.check(len(found) == 1 and found[0]["frames"][0]["function"] == "find_archive", "%s core: %s %s"
                % (interp.label, found, result["notes"]))
        h.check(found[0]["evidence"]["samples"] == 1 and "one snapshot (a core)" in found[0]["evidence"]["source"],
                "core evidence %s" % found[0]["evidence"])
        with h.py_scenario(interp, "py_busy_requests.py") as s:
            # 10 samples over 2 s: all in one handler by chance ~1e-5 (the login handler takes 31 % of
            # the CPU); with 5 (the default second) it was ~0.4 % of runs.
            code, result = analyze(str(s.pid), "--select", "busy-loop or spiking-thread", "--duration", "2")
            h.check(not findings(result, "busy-loop"), "%s: requests are no loop: %s" % (interp.label, findings(result, "busy-loop")))
            spikes = findings(result, "spiking-thread")
            h.check([x["threads"] for x in spikes] == [[s.truth["busy_tid"]]], "%s: spiking %s" % (interp.label, spikes))
            notes = [n["message"] for n in result["notes"] if n["rule"] == "busy-loop"]
            h.check(any("request-server" in n and "is no loop over 10 samples" in n for n in notes), "notes %s" % notes)


@h.case("thread-leak-baseline")
def test_thread_leak_baseline():
    """analyze --baseline OLD: 3 then 9 threads of one stack (a thread per connection): 9 alone
    are under min_threads (10); against the 3 they grew by 6 (min_growth 5); 3 against 9 did not."""
    interp = pythons()[-1]
    cores = {}
    for n in (3, 9):
        env = {"SNAG_LEAK_INTERVAL": "0.02", "SNAG_LEAK_READY_AT": str(n), "SNAG_LEAK_MAX": str(n)}
        with h.py_scenario(interp, "py_thread_leak.py", env=env) as s:
            cores[n] = os.path.join(h.scratch(), "leak%d.core" % n)
            h.snag("dump", s.pid, "-o", cores[n], check=True)
    code, alone = analyze(cores[9], "--select", "thread-leak")
    h.check(not findings(alone, "thread-leak"), "9 threads alone: %s" % findings(alone, "thread-leak"))
    code, result = analyze(cores[9], "--select", "thread-leak", "--baseline", cores[3])
    found = findings(result, "thread-leak")
    h.check(len(found) == 1 and found[0]["evidence"]["count"] == 9 and found[0]["evidence"]["baseline_count"] == 3,
            "9 against a baseline of 3: %s" % found)
    h.check("serve_connection" in json.dumps(found[0]["frames"]) and "(3 in the baseline dump" in found[0]["message"],
            found[0]["message"])
    code, result = analyze(cores[3], "--select", "thread-leak", "--baseline", cores[9])
    h.check(not findings(result, "thread-leak"), "3 against 9: %s" % findings(result, "thread-leak"))


@h.case("memory-growth-heap-kinds")
def test_heap_kinds():
    """The GC census names the leaking class; versions without known GC lists say so."""
    for interp in h.interpreters(lo=(3, 7), hi=(3, 13), extra=False):
        if interp.version[:2] not in ((3, 7), (3, 12)):
            continue
        with h.py_scenario(interp, "py_heap_growth.py") as s:
            code, result = analyze(str(s.pid), "--select", "memory-growth")
            found = findings(result, "memory-growth")
            h.check(len(found) == 1, "%s: %s" % (interp.label, result))
            heap = found[0]["evidence"]["python_heap"]
            if interp.version[:2] == (3, 7):
                h.check("not measurable" in heap.get("error", ""), "3.7: %s" % heap)
                continue
            h.check(heap["top"][0]["type"] == s.truth["leaked_class"] and heap["complete"], "%s: %s" % (interp.label, heap))
            h.check(heap["objects"][1] > heap["objects"][0] and heap["top"][0]["delta"] >= 5000, "totals %s" % heap)
    # Free-threaded: no GC lists to walk (objects live in mimalloc heaps); the RSS finding stays
    # and its evidence says why the objects were not counted.
    for interp in h.free_threaded_interpreters():
        with h.py_scenario(interp, "py_heap_growth.py") as s:
            code, result = analyze(str(s.pid), "--select", "memory-growth")
            found = findings(result, "memory-growth")
            h.check(len(found) == 1, "%s: %s" % (interp.label, result))
            error = found[0]["evidence"]["python_heap"].get("error", "")
            h.check("free-threaded CPython 3.13" in error and "mimalloc heaps" in error, "%s: %s" % (interp.label, error))


def _build_library(path, version):
    src = path + ".c"
    with open(src, "w") as f:
        f.write("int ledger_version(void) { return %d; }\n" % version)
    h.run(["gcc", "-shared", "-fPIC", "-Wl,--build-id", "-o", path, src], check=True)
    notes = h.run(["readelf", "-n", path], check=True).stdout
    return notes.split("Build ID:")[1].split()[0]


@h.case("not-my-version-rebuilt-library")
def test_not_my_version():
    """A library rebuilt at the same path after the core was taken: named, with both build-ids."""
    for interp in pythons():
        d = h.scratch()
        lib = os.path.join(d, "libledger.so")
        recorded = _build_library(lib, 1)
        with h.py_scenario(interp, "py_versioned_library.py", env={"SNAG_LIBRARY": lib}) as s:
            h.check(s.truth["version"] == 1, "truth %s" % s.truth)
            core = os.path.join(s.dir, "core")
            h.snag("dump", s.pid, "-o", core, check=True)
            code, result = analyze(core, "--select", "not-my-version")
            h.check(not findings(result, "not-my-version"), "%s: unmodified files: %s" % (interp.label, result["findings"]))
            rebuilt = _build_library(lib, 2)
            h.check(rebuilt != recorded, "the rebuild kept build-id %s" % recorded)
            # Live: the process still runs the old file, which the kernel now calls "(deleted)".
            code, result = analyze(str(s.pid), "--select", "not-my-version", "--duration", "0")
            found = findings(result, "not-my-version")
            h.check(len(found) == 1 and "replaced or deleted on disk" in found[0]["message"]
                    and "libledger.so" in found[0]["message"], "%s live: %s" % (interp.label, found))
            h.check(found[0]["evidence"]["modules"] == [{"path": lib, "build_id": recorded, "now_on_disk": True}],
                    "live evidence %s" % found[0]["evidence"])
        code, result = analyze(core, "--select", "not-my-version")
        found = findings(result, "not-my-version")
        h.check(len(found) == 1 and "libledger.so" in found[0]["message"], "%s: %s" % (interp.label, found))
        modules = found[0]["evidence"]["modules"]
        h.check([m["path"] for m in modules] == [lib], "only the rebuilt library: %s" % modules)
        h.check(modules[0]["recorded_build_id"] == recorded and modules[0]["build_id"] == rebuilt, "%s" % modules)
    # An extension module built for 3.11 (its ABI tag says so) loaded into a 3.12 process.
    interp = [i for i in pythons() if i.version[:2] == (3, 12)][0]
    lib = os.path.join(h.scratch(), "_ledger.cpython-311-x86_64-linux-gnu.so")
    _build_library(lib, 1)
    with h.py_scenario(interp, "py_versioned_library.py", env={"SNAG_LIBRARY": lib}) as s:
        code, result = analyze(str(s.pid), "--select", "not-my-version", "--duration", "0")
    found = findings(result, "not-my-version")
    h.check(len(found) == 1 and "built for another Python than the interpreter's 3.12" in found[0]["message"],
            "3.11 module in 3.12: %s" % found)
    h.check(found[0]["evidence"]["modules"] == [{"path": lib, "built_for": "3.11"}], "evidence %s" % found[0]["evidence"])


def _cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@h.case("spiking-thread-kernel-core-leader")
def test_kernel_core_leader():
    """Kernel cores give the group leader the whole process's CPU time; the rule subtracts the
    other threads', so the joined MainThread is not reported next to the spinning worker."""
    with open("/proc/sys/kernel/core_pattern") as f:
        if f.read().strip().startswith("|"):
            h.skip("core_pattern pipes cores to a program; needs a plain file name")
    interp = pythons()[-1]
    d = h.scratch()
    cmd = ["sh", "-c", 'ulimit -c unlimited && exec "$0" "$@"', interp.path, os.path.join(h.SCENARIOS, "py_threads.py")]
    s = h.start_scenario(cmd, cwd=d)
    try:
        worker = [t["native_id"] for t in s.truth["threads"] if t["name"] == "worker-1"][0]
        h._wait_until(lambda: _cpu_seconds(s.pid) >= 0.5, 30, interval=0.05)
        os.kill(s.pid, signal.SIGABRT)
        s.proc.wait(timeout=60)
    finally:
        s.stop()
    cores = [n for n in os.listdir(d) if n.startswith("core")]
    h.check(cores, "the kernel wrote no core in %s" % d)
    code, result = analyze(os.path.join(d, cores[0]), "--select", "spiking-thread")
    spikes = findings(result, "spiking-thread")
    h.check([f["threads"] for f in spikes] == [[worker]], "spiking threads %s, want only worker-1 %d" % (spikes, worker))
    h.check("worker-1" in spikes[0]["message"] and spikes[0]["evidence"]["share"] > 0.8, spikes[0]["message"])


@h.case("crash-jit-dump")
def test_crash_jit_dump():
    """crash on a core written at the signal by `snag run --on-crash dump`: signal, fault address
    and the crasher's Python frame (py_crash.py's crash_segv line)."""
    interp = pythons()[-1]
    core = os.path.join(h.scratch(), "jit.core")
    r = h.snag("run", "--on-crash", "dump", "-o", core, "--", interp.path,
               os.path.join(h.SCENARIOS, "py_crash.py"), "segv", timeout=180)
    h.check(r.returncode == 128 + signal.SIGSEGV and os.path.exists(core), "snag run: %d %s" % (r.returncode, r.stderr[-800:]))
    code, result = analyze(core, "--select", "crash")
    found = findings(result, "crash")
    h.check(code == 1 and len(found) == 1, "crash findings %s" % found)
    h.check("SIGSEGV (SEGV_MAPERR: address not mapped) at address 0x0 in thread crasher" in found[0]["message"],
            found[0]["message"])
    # string_at(0) faults in a load through a register holding 0: the instruction names its operand
    # (or, for an AVX-512 strlen Capstone 4 cannot decode, says so with its bytes).
    ins = found[0]["evidence"].get("instruction") or ""
    h.check((re.search(r"\(%r[a-z0-9]+", ins) or re.match(r"\(unknown vector instruction\) 62( [0-9a-f]{2})+$", ins))
            and ("`%s`" % " ".join(ins.split())) in found[0]["message"],
            "faulting instruction %r in %s" % (ins, found[0]["message"]))
    first, last = _function_lines("py_crash.py", "crash_segv")
    py = [f for f in found[0]["frames"] if f.get("function") == "crash_segv"]
    h.check(py and first < py[0]["line"] <= last, "crash_segv frame %s (lines %d-%d)" % (found[0]["frames"], first, last))


def _on_pty(argv, stream):
    """What argv wrote to stdout or stderr (the other one discarded) when that is a terminal."""
    master, slave = pty.openpty()
    other = subprocess.DEVNULL
    p = subprocess.Popen(argv, stdout=slave if stream == "stdout" else other,
                         stderr=slave if stream == "stderr" else other)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO once the child closed its side
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    h.check(p.wait(timeout=60) == 1, "exit on a tty")
    return seen


BROKEN = {
    "raises.lua": 'return {id="raises", pattern="Crash", title="t", severity="error",'
                  ' check=function(t, a, r) error("boom") end}',
    "loops.lua": 'return {id="loops", pattern="Hang", title="t", severity="error",'
                 ' check=function(t, a, r) while true do end end}',
    "allocates.lua": 'return {id="allocates", pattern="Memory Leak", title="t", severity="error",'
                     ' check=function(t, a, r) local x = {} for i = 1, 1e12 do x[i] = {i} end end}',
    "badfield.lua": 'return {id="badfield", pattern="Hang", title="t", severity="fatal",'
                    ' check=function() end}',
    "recurses.lua": 'local function f(n) return f(n + 1) + 1 end '
                    'return {id="recurses", pattern="Hang", title="t", severity="error",'
                    ' check=function(t, a, r) f(0) end}',
    "forbidden.lua": 'return {id="forbidden", pattern="Hang", title="t", severity="error",'
                     ' check=function(t, a, r) os.execute("touch /tmp/snag-forbidden") end}',
    "gsubloop.lua": 'local function g(s) return (s:gsub(".", g)) end '
                    'return {id="gsubloop", pattern="Hang", title="t", severity="error",'
                    ' check=function(t, a, r) g("ab") end}',
}


@h.case("broken-rules-reported-in-errors")
def test_broken_rules():
    d = h.scratch()
    for name, text in BROKEN.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    interp = pythons()[-1]
    with h.py_scenario(interp, "py_deadlock_rlock.py") as s:
        core = os.path.join(s.dir, "core")
        h.snag("dump", s.pid, "-o", core, check=True)
    code, result = analyze(core, "--rules", d)
    errors = {e["rule"]: e for e in result["errors"]}
    h.check("boom" in errors.get("raises", {}).get("message", ""), "raises: %s" % errors)
    h.check("instruction budget" in errors.get("loops", {}).get("message", ""), "loops: %s" % errors)
    h.check("memory budget" in errors.get("allocates", {}).get("message", ""), "allocates: %s" % errors)
    h.check("stack overflow" in errors.get("recurses", {}).get("message", ""), "recurses: %s" % errors)
    h.check(re.search(r"os\.execute|nil value", errors.get("forbidden", {}).get("message", "")),
            "forbidden: %s" % errors)
    h.check("stack overflow" in errors.get("gsubloop", {}).get("message", ""), "gsubloop: %s" % errors)
    h.check(not os.path.exists("/tmp/snag-forbidden"), "os.execute ran inside a rule")
    bad = [e for e in result["errors"] if e["phase"] == "load"]
    h.check(len(bad) == 1 and "badfield.lua: severity" in bad[0]["message"], "load error: %s" % bad)
    h.check(findings(result, "python-deadlock"), "the other rules still report")
    h.check(code == 1, "exit %d with an error finding" % code)
    code, _ = analyze(core, "--rules", d, "--fail-on", "critical")
    h.check(code == 0, "--fail-on critical: exit %d" % code)
    code, _ = analyze(core, "--rules", d, "--select", "thread-leak")
    h.check(code == 0, "--select thread-leak on a deadlock: exit %d" % code)
    # Reports: markdown and text, the DOT graph with the cycle in red.
    r = h.snag("analyze", core, "--format", "markdown")
    h.check(r.returncode == 1 and "### ERROR" in r.stdout and "```" in r.stdout, r.stdout[:500])
    r = h.snag("analyze", core)
    h.check(r.returncode == 1 and "\x1b[" not in r.stdout and "python-deadlock" in r.stdout, r.stdout[:500])
    dot = os.path.join(d, "wait.dot")
    h.snag("analyze", core, "--graph", dot)
    with open(dot) as f:
        text = f.read()
    h.check(text.startswith("digraph") and "color=red" in text and "RLock" in text, text[:500])
    # SVG through Graphviz's dot; without dot on PATH a clear message, the DOT source kept.
    svg = os.path.join(d, "wait.svg")
    r = h.snag("analyze", core, "--graph", svg)
    if shutil.which("dot"):
        with open(svg) as f:
            h.check(r.returncode == 1 and "<svg" in f.read(), "svg: %d %s" % (r.returncode, r.stderr))
    nodot = os.path.join(d, "nodot.svg")
    r = h.run([h.SNAG, "analyze", core, "--graph", nodot], env=dict(os.environ, PATH="/nonexistent"))
    h.check(r.returncode == 2 and "needs Graphviz's dot program" in r.stderr and os.path.exists(nodot[:-4] + ".dot"),
            "no dot: %d %s" % (r.returncode, r.stderr))
    # Progress on stderr and colors on stdout only when they are terminals.
    h.check("rule " not in h.snag("analyze", core).stderr, "no progress on a pipe")
    h.check(b"snag analyze: rule " in _on_pty([h.SNAG, "analyze", core], "stderr"), "progress on a tty")
    h.check(b"\x1b[1;31mERROR\x1b[0m python-deadlock" in _on_pty([h.SNAG, "analyze", core], "stdout"), "colors on a tty")
    r = h.snag("analyze", core, "--select", "no and (", timeout=30)
    h.check(r.returncode == 2 and "--select" in r.stderr, "bad --select: %d %s" % (r.returncode, r.stderr))
    r = h.snag("analyze", core, "--arg", "thread-leak.min_threads=maybe", timeout=30)
    h.check(r.returncode == 2 and "an integer" in r.stderr, "bad --arg: %s" % r.stderr)


@h.case("rules-list")
def test_rules_list():
    r = h.snag("rules", "list", check=True)
    for rule in ("python-deadlock", "gil-holder-blocked", "spiking-thread", "thread-leak", "crash"):
        h.check(rule in r.stdout, "%s missing from rules list" % rule)
    h.check("--arg thread-leak.min_threads=" in r.stdout, r.stdout[:800])


def _rules_test_case(rule_id, path):
    def run():
        r = h.snag("rules", "test", path, "--only", rule_id, timeout=600)
        print(r.stdout, end="")
        h.check(r.returncode == 0 and "%s: pass" % rule_id in r.stdout,
                "snag rules test %s: exit %d\n%s%s" % (rule_id, r.returncode, r.stdout[-3000:], r.stderr[-1000:]))
    return run


for _name in sorted(os.listdir(DEFAULT_RULES)):
    if _name.endswith(".lua") and not _name.endswith(".test.lua"):
        h.case("rules-test-" + _name[:-4])(_rules_test_case(_name[:-4], DEFAULT_RULES))
h.case("rules-test-team-ledger-audit-stuck")(_rules_test_case("ledger-audit-stuck", EXAMPLE_RULES))

if __name__ == "__main__":
    h.main()
