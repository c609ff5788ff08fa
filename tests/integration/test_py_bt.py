"""py-bt against ground truth: every CPython on the machine, the free-threaded 3.13t that
scripts/make-python-ft builds, and Debian sid's python3.14 and python3.15 run in a chroot
(scripts/make-rootfs sid), × live / gcore / snag dump / stripped
libpython, with and without the interpreter's -dbg files. Each scenario writes its own stacks
(sys._current_frames() + traceback.extract_stack) before signalling ready; snag's function,
file and line must equal them for every frame of every thread."""
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

# Scenarios whose truth lists every thread (checked frame by frame on every interpreter).
TRUTH_SCENARIOS = ["py_threads.py", "py_generators.py", "py_recursion.py", "py_class_method.py",
                   "py_unicode.py", "py_deadlock_rlock.py", "py_deadlock_lock.py",
                   "py_nested_exception.py"]
# 2.7 has no async def and no non-ASCII identifiers; py2_values.py covers generators and values.
PY2_SCENARIOS = [s for s in TRUTH_SCENARIOS if s not in ("py_generators.py", "py_unicode.py")] + \
    ["py2_values.py"]
EVAL_LOOPS = ("_PyEval_EvalFrameDefault", "PyEval_EvalFrameEx")


def truth_scenarios(interp):
    return PY2_SCENARIOS if interp.version[0] == 2 else TRUTH_SCENARIOS


def expected_name(frame, interp):
    if interp.version[:2] >= (3, 11) and frame.get("qualname"):
        return frame["qualname"]
    return frame["function"]


def compare(truth, stacks, interp, what):
    problems = []
    pairs = h.python_threads(truth, stacks)
    h.check(pairs, "%s: the scenario's truth lists no threads" % what)
    for t, s in pairs:
        if s is None:
            problems.append("thread %s (%s) missing" % (t.get("native_id") or t["ident"], t["name"]))
            continue
        got = [f for f in s["frames"] if f["kind"] == "python"]
        want = t["frames"]
        if len(got) != len(want):
            problems.append("thread %s: %d frames, truth has %d: got %s"
                            % (t["name"], len(got), len(want),
                               [(f["function"], f["line"]) for f in got]))
            continue
        for i, (g, w) in enumerate(zip(got, want)):
            exp = (expected_name(w, interp), w["file"], w["line"])
            have = (g["function"], g["file"], g["line"])
            if exp != have:
                problems.append("thread %s frame #%d: snag %s, truth %s" % (t["name"], i, have, exp))
        if t.get("name") and s.get("name") != t["name"]:
            problems.append("thread %s: snag names it %r" % (t["name"], s.get("name")))
    h.check(not problems, "%s: %s" % (what, "; ".join(problems[:6])))
    return len(pairs)


def unmerged_check_python_frames(doc, truth, interp):
    for t, st in h.python_threads(truth, doc):
        h.check(st is not None, "thread %s missing" % t["name"])
        py = [(f["function"], f["line"]) for f in st["frames"] if f["kind"] == "python"]
        want = [(expected_name(f, interp), f["line"]) for f in t["frames"]]
        h.check(py == want, "%s: python frames %s, truth %s" % (t["name"], py, want))
        h.check(any(f["kind"] == "native" for f in st["frames"]), "%s: no native frames" % t["name"])


NT_FILE = 0x46494c45


def core_named_from_inside(core, root, out):
    """A copy of a core taken from outside a chroot whose NT_FILE names the mapped files as the
    kernel would for a process dumped inside it (ROOT stripped), as if made inside the root.
    The note segment keeps its size: a filler note takes the bytes the shorter paths free."""
    data = bytearray(open(core, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type != 4:
            continue
        at, end = p_offset, p_offset + p_filesz
        while at + 12 <= end:
            namesz, descsz, kind = struct.unpack_from("<III", data, at)
            desc_at = at + 12 + (namesz + 3) // 4 * 4
            size = desc_at - at + (descsz + 3) // 4 * 4
            if kind == NT_FILE:
                desc = bytes(data[desc_at:desc_at + descsz])
                count, = struct.unpack_from("<Q", desc, 0)
                table = 16 + 24 * count
                names = desc[table:].split(b"\0")[:count]
                names = [n[len(root):] if n.startswith(root.encode() + b"/") else n for n in names]
                new_desc = desc[:table] + b"".join(n + b"\0" for n in names)
                note = struct.pack("<III", namesz, len(new_desc), kind) + data[at + 12:desc_at] + new_desc
                note += b"\0" * (-len(note) % 4)
                free = size - len(note)
                h.check(free >= 20, "no room for the filler note")
                note += struct.pack("<III", 5, free - 20, 0x534e4147) + b"SNAG\0\0\0\0" + b"\0" * (free - 20)
                data[at:at + size] = note
                open(out, "wb").write(data)
                return out
            at += size
    raise h.Failure("no NT_FILE note in %s" % core)


def py_bt(target, *extra):
    return h.snag_json("py-bt", target, "--json", *extra)


# Debian's own builds of today's CPythons, run in a sid chroot (snag runs outside it).
CHROOT_PYTHONS = ("sid", ["python3.14", "python3.15"])


def for_each_interpreter(register):
    for interp in h.interpreters(lo=(2, 7), hi=(3, 13)):
        register(interp)
    free_threaded = h.free_threaded_interpreters()
    for interp in free_threaded:
        register(interp)
    if not free_threaded:
        @h.case("without-free-threaded")
        def no_free_threaded():
            h.skip("no free-threaded CPython in %s: `make python-ft` builds 3.13t once (about 30 "
                   "minutes on 2 cores)" % h.CACHE)
    chrooted = h.chroot_interpreters(*CHROOT_PYTHONS)
    for interp in chrooted:
        register(interp)
    if not chrooted:
        @h.case("without-chroot-%s" % CHROOT_PYTHONS[0])
        def no_chroot():
            h.skip("no %s chroot with %s: %s" % (CHROOT_PYTHONS[0], ", ".join(CHROOT_PYTHONS[1]),
                                                 h.rootfs_problem(CHROOT_PYTHONS[0])))


def core_args(interp):
    """A core of a chrooted process names its files under the root already; --sysroot ROOT adds
    the root's /usr/lib/debug (the -dbg files), so the -dbg variant is read with it."""
    return ["--sysroot", interp.root] if interp.root and not interp.hide_debug else []


def check_debug_files(doc, interp):
    """--native stacks of a chrooted interpreter have CPython source lines exactly when its -dbg
    files were visible to snag."""
    if not interp.root:
        return
    files = [f["file"] for t in doc["threads"] for f in t["frames"]
             if f["kind"] == "native" and (f.get("module") or "").endswith(interp.path)]
    with_lines = [f for f in files if f]
    if interp.hide_debug:
        h.check(not with_lines, "no -dbg files, yet CPython source lines: %s" % with_lines[:3])
    else:
        h.check(with_lines, "the -dbg files in %s gave no CPython source lines" % interp.root)


def register_cases(interp):
    label = interp.label

    @h.case("live-scenarios-%s" % label)
    def live():
        for script in truth_scenarios(interp):
            with h.py_scenario(interp, script) as s:
                compare(s.truth, py_bt(s.pid), interp, script)

    @h.case("gcore-%s" % label)
    def gcore():
        with h.py_scenario(interp, "py_threads.py") as s:
            core = h.gcore(s.pid, os.path.join(s.dir, "core"))
            live_stacks = py_bt(s.pid)
            s.stop()
            compare(s.truth, py_bt(core, *core_args(interp)), interp, "gcore")
            compare(s.truth, live_stacks, interp, "live")

    @h.case("snag-dump-%s" % label)
    def dump():
        if not h.has_subcommand("dump"):
            h.skip("this snag has no dump subcommand")
        with h.py_scenario(interp, "py_threads.py") as s:
            core = os.path.join(s.dir, "snag.core")
            h.snag("dump", s.pid, "-o", core, check=True)
            s.stop()
            compare(s.truth, py_bt(core, *core_args(interp)), interp, "snag dump")

    @h.case("stripped-libpython-%s" % label)
    def stripped():
        libdir = h.strip_libpython(interp, "debug")
        with h.py_scenario(interp, "py_threads.py", env={"LD_LIBRARY_PATH": libdir}) as s:
            doc = py_bt(s.pid)
            h.check("DWARF" not in doc["python"]["layout_source"],
                    "stripped libpython still gave DWARF layouts: %s" % doc["python"]["layout_source"])
            compare(s.truth, doc, interp, "stripped")

    @h.case("locks-and-gil-%s" % label)
    def locks():
        with h.py_scenario(interp, "py_deadlock_rlock.py") as s:
            doc = py_bt(s.pid)
            locks = set(s.truth["locks"].values())
            owners = {}
            waits = []
            for t in doc["threads"]:
                py = t.get("python") or {}
                w = py.get("waiting_on")
                if w and w.get("address") in locks:
                    waits.append((py["thread_id"], w["address"], w["lock"]["owner_thread_id"]))
                owners[py.get("thread_id")] = t
            h.check(len(waits) == 2, "expected two threads waiting on the RLocks, got %s" % waits)
            for me, lock, owner in waits:
                h.check(owner in owners and owner != me, "RLock %#x owner %#x is not another thread" % (lock, owner))
            h.check(not any((t.get("python") or {}).get("gil") for t in doc["threads"]),
                    "no thread should hold the GIL in a deadlock")
            # The owner by thread (TID and name), and the REPL's py-bt shows the CLI's wait lines.
            names = {t["python"]["thread_id"]: (t["tid"], t["name"]) for t in doc["threads"] if t.get("python")}
            text = h.snag("py-bt", s.pid, check=True).stdout
            cli = sorted(l.strip() for l in text.splitlines() if re.match(r"waiting on \S*RLock ", l.strip()))
            for _, _, owner in waits:
                tid, name = names[owner]
                want = 'owner thread %d "%s", ident %#x' % (tid, name, owner)
                h.check(any(want in l for l in cli), "py-bt does not name the owner as %r:\n%s" % (want, "\n".join(cli)))
            repl = h.snag("exec", s.pid, "-ex", "thread apply all py-bt", check=True).stdout
            got = sorted(l.strip() for l in repl.splitlines() if re.match(r"waiting on \S*RLock ", l.strip()))
            h.check(got == cli, "the REPL's py-bt wait lines differ from the CLI's:\n%s\n---\n%s" % (got, cli))

    @h.case("lock-held-in-io-%s" % label)
    def held_in_io():
        # A plain Lock's probable holder, blocked in recv inside its `with` block, holds it (every
        # version, ≤3.11 too, where the block's __exit__ was taken for a lock it waits on).
        if tuple(interp.version[:2]) < (3, 9):
            h.skip("probable Lock owners are read from 3.9 on")
        with h.py_scenario(interp, "py_lock_held_in_io.py") as s:
            doc = py_bt(s.pid)
            by_name = {t["name"]: t.get("python") or {} for t in doc["threads"]}
            worker, refresher = by_name.get("worker", {}), by_name.get("refresher", {})
            lock = (worker.get("waiting_on") or {}).get("address")
            h.check(lock, "worker waits on no lock: %s" % worker)
            h.check(not refresher.get("waiting_on"), "the holder is said to wait: %s" % refresher.get("waiting_on"))
            h.check(lock in [w["address"] for w in refresher.get("with_locks", [])],
                    "refresher's `with` block on %#x is not seen: %s" % (lock, refresher))
            text = h.snag("py-bt", s.pid, check=True).stdout
            h.check("holds Lock at %#x (inferred: its `with` block is open in fetch_rates)" % lock in text, text)

    @h.case("gil-wait-%s" % label)
    def gil():
        if interp.free_threaded:
            return no_gil()
        with h.py_scenario(interp, "py_gil_blocked.py", settle_tasks=False) as s:
            doc = py_bt(s.pid)
            by_ident = dict(((t.get("python") or {}).get("thread_id"), t) for t in doc["threads"])
            holder = by_ident.get(s.truth["holder"])
            h.check(holder is not None and holder["python"]["gil"],
                    "the gil-holder thread is not reported as holding the GIL")
            workers = [t for t in doc["threads"] if t["name"].startswith("worker-")]
            h.check(len(workers) == 2, "expected two workers, got %s" % [t["name"] for t in doc["threads"]])
            for t in workers:
                h.check(t["python"]["waiting_for_gil"], "%s is not waiting for the GIL: %s"
                        % (t["name"], t["python"]["status"]))

    def no_gil():
        """Free-threaded: nothing holds or waits for a GIL; the thread blocked in a PyDLL call is
        attached (it would hold the GIL in a default build) and the rule that looks for a blocked
        GIL holder says in a note why it is silent."""
        with h.py_scenario(interp, "py_gil_blocked.py", settle_tasks=False) as s:
            doc = py_bt(s.pid)
            h.check(doc["python"]["free_threaded"] and doc["python"]["gil_disabled"],
                    "not reported as free-threaded without a GIL: %s" % doc["python"])
            for t in doc["threads"]:
                py = t.get("python") or {}
                h.check(not py.get("gil") and not py.get("waiting_for_gil"),
                        "%s: GIL state on a build without a GIL: %s" % (t["name"], py))
            by_ident = dict(((t.get("python") or {}).get("thread_id"), t) for t in doc["threads"])
            holder = by_ident.get(s.truth["holder"])
            h.check(holder and holder["python"].get("attached") is True and
                    holder["python"]["status"] == "running Python, no GIL",
                    "the thread blocked in a PyDLL call is not attached: %s" % (holder or {}).get("python"))
            text = h.snag("py-bt", s.pid, check=True).stdout
            h.check("without a GIL: " in text and str(holder["tid"]) in text.splitlines()[0],
                    "py-bt does not say which threads run: %s" % text[:300])
            r = h.snag("analyze", s.pid, "--format", "json")
            h.check(r.returncode in (0, 1), "analyze exited %d: %s" % (r.returncode, r.stderr[-500:]))
            out = json.loads(r.stdout)
            h.check(not [f for f in out["findings"] if f["rule"] == "gil-holder-blocked"],
                    "gil-holder-blocked fired without a GIL")
            h.check([n for n in out.get("notes", []) if n["rule"] == "gil-holder-blocked" and
                     "free-threaded" in n["message"]], "no note says why: %s" % out.get("notes"))
        # PYTHON_GIL=1 turns the GIL on in the same build: then it has a holder and waiters.
        with h.py_scenario(interp, "py_gil_blocked.py", env={"PYTHON_GIL": "1"}, settle_tasks=False) as s:
            doc = py_bt(s.pid)
            h.check(doc["python"]["free_threaded"] and not doc["python"]["gil_disabled"],
                    "PYTHON_GIL=1: %s" % doc["python"])
            by_ident = dict(((t.get("python") or {}).get("thread_id"), t) for t in doc["threads"])
            holder = by_ident.get(s.truth["holder"])
            h.check(holder and holder["python"]["gil"], "PYTHON_GIL=1: the holder does not hold the GIL")
            workers = [t for t in doc["threads"] if t["name"].startswith("worker-")]
            h.check(len(workers) == 2 and all(t["python"]["waiting_for_gil"] for t in workers),
                    "PYTHON_GIL=1: workers %s" % [(t["name"], t["python"]["status"]) for t in workers])

    @h.case("native-merge-%s" % label)
    def native_merge():
        with h.py_scenario(interp, "py_threads.py") as s:
            doc = py_bt(s.pid, "--native")
            check_debug_files(doc, interp)
            if interp.hide_debug:
                # Debian's stripped 3.14/3.15 return into _PyEval_EvalFrameDefault.cold, which
                # only the -dbg file's .symtab names: the stacks are shown unmerged, complete.
                unmerged_check_python_frames(doc, s.truth, interp)
                return
            h.check(not [w for w in doc["warnings"] if "unmerged" in w],
                    "stacks not merged: %s" % doc["warnings"])
            for t, st in h.python_threads(s.truth, doc):
                h.check(st is not None, "thread %s missing" % t["name"])
                kinds = [f["kind"] for f in st["frames"]]
                h.check("native" in kinds and "python" in kinds, "%s: kinds %s" % (t["name"], kinds))
                h.check(not any(f["function"] in EVAL_LOOPS for f in st["frames"]),
                        "%s: eval-loop frame left in a merged stack" % t["name"])
                # The python frames of the merged stack are exactly the truth, in order.
                py = [(f["function"], f["line"]) for f in st["frames"] if f["kind"] == "python"]
                want = [(expected_name(f, interp), f["line"]) for f in t["frames"]]
                h.check(py == want, "%s: merged python frames %s, truth %s" % (t["name"], py, want))

    @h.case("core-inside-chroot-%s" % label)
    def core_inside_chroot():
        if not interp.root or interp.hide_debug:
            h.skip("run for the chrooted interpreters with their -dbg files")
        with h.py_scenario(interp, "py_threads.py") as s:
            core = h.gcore(s.pid, os.path.join(s.dir, "core"))
            s.stop()
            inside = os.path.join(s.dir, "inside.core")
            core_named_from_inside(core, interp.root, inside)
            doc = py_bt(inside, "--native", "--sysroot", interp.root)
            compare(s.truth, doc, interp, "core with paths inside the root, --sysroot")
            check_debug_files(doc, interp)

    @h.case("core-native-locals-%s" % label)
    def core_native_locals():
        if not interp.root and not interp.free_threaded:
            h.skip("run for the chrooted and free-threaded interpreters (native-merge covers the others live)")
        with h.py_scenario(interp, "py_threads.py") as s:
            core = h.gcore(s.pid, os.path.join(s.dir, "core"))
            s.stop()
            doc = py_bt(core, "--native", "--locals", *core_args(interp))
            check_debug_files(doc, interp)
            for t, st in h.python_threads(s.truth, doc):
                h.check(st is not None, "thread %s missing" % t["name"])
                py = [f for f in st["frames"] if f["kind"] == "python"]
                want = [(expected_name(f, interp), f["line"]) for f in t["frames"]]
                h.check([(f["function"], f["line"]) for f in py] == want,
                        "%s: core --native python frames %s, truth %s" % (t["name"], py, want))
                if t["name"].startswith("worker-"):
                    bar = [f for f in py if f["function"] == "bar"][0]
                    h.check((bar.get("locals") or {}).get("spike") == str(t["name"] == "worker-1"),
                            "%s: bar's locals %s" % (t["name"], bar.get("locals")))

    @h.case("dwarf-layout-%s" % label)
    def dwarf_layout():
        """The layout read from _Py_DebugOffsets (and the table fields it lacks, moved past a
        free-threaded object header) equals the DWARF of the interpreter, field for field."""
        with_dwarf = interp.free_threaded or (interp.root and not interp.hide_debug) or interp.label.startswith("pyenv")
        if not with_dwarf or interp.version[:2] < (3, 13):
            h.skip("run for the builds with _Py_DebugOffsets and DWARF (pyenv 3.13, 3.13t, sid's -dbg)")
        with h.py_scenario(interp, "py_threads.py") as s:
            doc = py_bt(s.pid, "--dwarf-layout", "--locals")
            source = doc["python"]["layout_source"]
            h.check("DWARF of " in source and " 0 differ" in source, "layout vs DWARF: %s" % source)
            compare(s.truth, doc, interp, "--dwarf-layout")

    @h.case("exception-%s" % label)
    def exception():
        with h.py_scenario(interp, "py_nested_exception.py") as s:
            doc = py_bt(s.pid)
            want = s.truth["exception"]["type"]
            seen = [l["type"] for t in doc["threads"]
                    for l in ((t.get("python") or {}).get("exception") or {}).get("chain", [])]
            h.check(want in seen, "exception %s not reported (saw %s)" % (want, seen))


for_each_interpreter(register_cases)


def check_py2_locals(doc, truth, what):
    thread = [t for t in doc["threads"] if t["name"] == "values"]
    h.check(thread, "%s: no thread named 'values'" % what)
    frames = [f for f in thread[0]["frames"] if f["function"] == "hold_values"]
    h.check(frames, "%s: no hold_values frame" % what)
    got = frames[0].get("locals") or {}
    wrong = ["%s: snag %r, repr %r" % (k, got.get(k), v) for k, v in sorted(truth["locals"].items())
             if got.get(k) != v]
    h.check(not wrong, "%s: %s" % (what, "; ".join(wrong)))
    h.check(got.get("old", "").startswith("<OldStyle object at 0x"), "%s: old-style instance %r"
            % (what, got.get("old")))


def register_py2_cases(interp):
    @h.case("py2-values-%s" % interp.label)
    def py2_locals():
        with h.py_scenario(interp, "py2_values.py") as s:
            check_py2_locals(py_bt(s.pid, "--locals"), s.truth, "live")
            # The built-in 2.7 table equals the DWARF of this build, field for field.
            source = py_bt(s.pid, "--dwarf-layout")["python"]["layout_source"]
            h.check("libpython2.7" in source and " 0 differ" in source, "2.7 layout vs DWARF: %s" % source)
            core = h.gcore(s.pid, os.path.join(s.dir, "core"))
            s.stop()
            check_py2_locals(py_bt(core, "--locals"), s.truth, "gcore")


for interp in h.interpreters(lo=(2, 7), hi=(2, 7), extra=False):
    register_py2_cases(interp)


LARGE_LOCAL = """
import os, time
def handle(rows, depth):
    if depth:
        return handle(rows, depth - 1)
    ready = os.environ["SNAG_READY"]
    open(ready + ".tmp", "w").write("ready\\n")
    os.rename(ready + ".tmp", ready)
    time.sleep(3600)
handle([{"id": i, "name": "row %d" % i} for i in range(40)], 3)
"""


@h.case("locals-large-object-once")
def large_local_once():
    """--locals: a large value passed down four frames is printed once; the others refer to it."""
    if not os.path.exists("/usr/bin/python3"):
        h.skip("no /usr/bin/python3")
    with h.start_scenario(["/usr/bin/python3", "-c", LARGE_LOCAL]) as s:
        text = h.snag("py-bt", s.pid, "--locals", check=True).stdout
    rows = [l.strip() for l in text.splitlines() if l.strip().startswith("rows = ")]
    h.check(len(rows) == 4, "want rows in 4 frames: %s" % rows)
    h.check(rows[0].startswith("rows = [{'id': 0"), "first showing: %s" % rows[0][:80])
    h.check(all(re.match(r"rows = <same as rows in #\d+, \d+ characters>$", r) for r in rows[1:]),
            "later frames repeat the value: %s" % [r[:80] for r in rows[1:]])


def gdb_py_bt(core, exe):
    """{tid: [(function, file, line)]} from gdb's `thread apply all py-bt` (python3.11-dbg)."""
    import re
    r = h.run(["gdb", "-batch", "-nx", "-ex", "thread apply all py-bt", exe, core], timeout=600)
    stacks, tid = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP (\d+)\)\)", line)
        if m:
            tid = int(m.group(1))
            stacks[tid] = []
            continue
        m = re.match(r'\s+File "(.*)", line (\d+), in (\S+)', line)
        if m and tid is not None:
            stacks[tid].append((m.group(3), m.group(1), int(m.group(2))))
    return stacks


@h.case("gdb-crosscheck-debian-3.11")
def gdb_crosscheck():
    if not os.access("/usr/bin/python3.11", os.X_OK):
        h.skip("Debian python3.11 not installed")
    if not os.path.exists("/usr/share/gdb/auto-load/usr/bin/python3.11-gdb.py"):
        h.skip("python3.11-dbg gdb extension not installed")
    with h.start_scenario(["/usr/bin/python3.11", os.path.join(h.SCENARIOS, "py_threads.py")]) as s:
        core = h.gcore(s.pid, os.path.join(s.dir, "core"))
        s.stop()
        doc = py_bt(core)
        theirs = gdb_py_bt(core, "/usr/bin/python3.11")
        h.check(sum(len(v) for v in theirs.values()) > 0, "gdb py-bt printed no frames")
        for t in doc["threads"]:
            ours = [(f["function"].rsplit(".", 1)[-1], f["file"], f["line"])
                    for f in t["frames"] if f["kind"] == "python"]
            h.check(theirs.get(t["tid"]) == ours,
                    "thread %d: snag %s, gdb %s" % (t["tid"], ours, theirs.get(t["tid"])))


@h.case("embedded-interpreter")
def embedded():
    exe = h.scenario_bin("embedded")
    if not exe:
        h.skip("embedded scenario not built")
    with h.start_scenario([exe]) as s:
        interp = h.Interpreter(exe, tuple(s.truth["python"]), "embedded", None)
        compare(s.truth, py_bt(s.pid), interp, "embedded live")
        doc = py_bt(s.pid, "--native")
        main = [t for t in doc["threads"] if t["tid"] == s.pid][0]
        names = [f["function"] for f in main["frames"]]
        h.check("run_embedded_code" in names and "<module>" in names,
                "merged main thread lacks the C caller or the module frame: %s" % names)
        h.check(names.index("<module>") < names.index("run_embedded_code"),
                "the C caller should sit below the Python frames: %s" % names)


def damage_core(src, dst, seed, flips):
    """Copy a core, overwriting random 8-byte words of its writable segments with hostile values:
    pointers into the same segment (cycles), huge lengths, all-ones, zero."""
    import random
    import struct
    rng = random.Random(seed)
    data = bytearray(open(src, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segments = []
    for i in range(phnum):
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and p_filesz >= 4096 and p_flags & 2:
            segments.append((p_offset, p_vaddr, p_filesz))
    for _ in range(flips):
        off, vaddr, size = rng.choice(segments)
        at = off + (rng.randrange(size - 8) & ~7)
        value = rng.choice([vaddr + (rng.randrange(size) & ~7), 1 << 40, (1 << 64) - 1, 0, rng.getrandbits(64)])
        struct.pack_into("<Q", data, at, value)
    open(dst, "wb").write(data)


@h.case("hostile-core")
def hostile_core():
    interp = [i for i in h.interpreters(lo=(3, 11), hi=(3, 12)) if i.label.startswith("pyenv")]
    if not interp:
        h.skip("no pyenv 3.11/3.12")
    with h.py_scenario(interp[0], "py_recursion.py") as s:
        core = h.gcore(s.pid, os.path.join(s.dir, "core"))
        s.stop()
        bad = os.path.join(s.dir, "damaged")
        partial = 0
        for seed in range(6):
            damage_core(core, bad, seed, flips=20000)
            try:
                r = h.snag("py-bt", bad, "--json", "--locals", timeout=60)
            except Exception as e:  # a hang shows up as a timeout
                raise h.Failure("seed %d: %s" % (seed, e))
            h.check(r.returncode in (0, 2), "seed %d: exit %d: %s" % (seed, r.returncode, r.stderr[-500:]))
            if r.returncode == 0 and '"error"' in r.stdout:
                partial += 1
        h.check(partial > 0, "no damaged core produced a marked partial stack")


@h.case("children-pool")
def children_pool():
    interp = [i for i in h.interpreters(lo=(3, 11), hi=(3, 11)) if i.label.startswith("pyenv")]
    if not interp:
        h.skip("no pyenv 3.11")
    with h.py_scenario(interp[0], "py_pool.py", settle_tasks=False) as s:
        doc = h.snag_json("py-bt", s.pid, "--children", "--json")
        groups = doc["processes"]
        covered = sorted(p for g in groups for p in g["pids"])
        for pid in [s.pid] + s.truth["worker_pids"]:
            h.check(pid in covered, "process %d missing from %s" % (pid, covered))
        looping = [g for g in groups if s.truth["looping_pid"] in g["pids"]]
        h.check(len(looping) == 1 and looping[0]["count"] == 1,
                "the looping worker should stand alone: %s" % [(g["pids"], g["count"]) for g in groups])
        names = [f["function"] for t in looping[0]["threads"] for f in t["frames"]]
        h.check("reread_forever" in names, "looping worker frames: %s" % names)
        idle = [g for g in groups if set(g["pids"]) & set(s.truth["worker_pids"]) and g is not looping[0]]
        h.check(idle and max(g["count"] for g in idle) >= 2,
                "idle workers were not grouped: %s" % [(g["pids"], g["count"]) for g in groups])


@h.case("unsupported-version")
def unsupported_version():
    """A layout snag cannot read: one sentence naming the version, exit 2; analyze says so as a
    finding. The core of a 3.13 process whose _Py_DebugOffsets are made to claim 3.16.0."""
    found = h.interpreters(lo=(3, 13), hi=(3, 13))
    if not found:
        h.skip("no CPython 3.13 on this machine")
    interp = found[0]
    with h.py_scenario(interp, "py_threads.py") as s:
        core = h.gcore(s.pid, os.path.join(s.dir, "core"))
        s.stop()
        data = bytearray(open(core, "rb").read())
        real = (3 << 24) | (13 << 16) | (interp.version[2] << 8) | 0xf0
        needle = b"xdebugpy" + struct.pack("<Q", real)
        h.check(needle in data, "the core holds no _Py_DebugOffsets of %s" % interp.label)
        data = data.replace(needle, b"xdebugpy" + struct.pack("<Q", 0x031000f0))
        bad = os.path.join(s.dir, "claims-3.16.core")
        open(bad, "wb").write(data)
        for extra in ([], ["--json"], ["--native", "--locals"]):
            r = h.snag("py-bt", bad, *extra)
            h.check(r.returncode == 2, "py-bt %s: exit %d, expected 2" % (extra, r.returncode))
            lines = r.stderr.strip().splitlines()
            h.check(len(lines) == 1 and "Python 3.16.0 is not supported" in lines[0],
                    "py-bt %s: %s" % (extra, r.stderr))
        r = h.snag("analyze", bad, "--format", "json")
        h.check(r.returncode in (0, 1), "analyze exited %d: %s" % (r.returncode, r.stderr[-500:]))
        found = [f for f in json.loads(r.stdout)["findings"] if f["rule"] == "python-unreadable"]
        h.check(found and found[0]["message"].startswith("Python 3.16 is present but unreadable: "),
                "analyze findings: %s" % [f["message"] for f in found])


@h.case("not-python")
def not_python():
    exe = h.scenario_bin("native_threads")
    if not exe:
        h.skip("native_threads scenario not built")
    with h.start_scenario([exe]) as s:
        r = h.snag("py-bt", s.pid)
        h.check(r.returncode == 2, "exit %d, expected 2" % r.returncode)
        h.check("no CPython interpreter found in %d" % s.pid in r.stderr, "message: %s" % r.stderr)


if __name__ == "__main__":
    h.main()
