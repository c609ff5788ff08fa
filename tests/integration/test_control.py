"""Live control (issue 6): breakpoints with actions on running processes, the spinning open("/")
field case, conditions/tbreak/ignore, multi-threaded hits, trace counts, and the safety test
(snag killed by SIGTERM/SIGINT/SIGHUP while breakpoints are inserted: the target survives with
its original code bytes)."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def read_mem(pid, addr, n):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(n)


def wait_for_int3(pid, addr, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if read_mem(pid, addr, 1) == b"\xcc":
            return
        time.sleep(0.002)
    raise h.Failure("the breakpoint at %#x never appeared in process %d" % (addr, pid))


def status_of(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def call_loop(threads, calls, trigger):
    exe = h.scenario_bin("call_loop")
    if not exe:
        h.skip("call_loop scenario not built")
    return h.start_scenario([exe, str(threads), str(calls)], env={"SNAG_TRIGGER": trigger})


def wait_file(path, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return open(path).read()
        time.sleep(0.01)
    raise h.Failure("%s never appeared" % path)


def start_snag(pid, *commands):
    argv = [h.SNAG, "exec", str(pid)]
    for c in commands:
        argv += ["-ex", c]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


SILENT_CONTINUE = "commands\nsilent\ncontinue\nend"


def busy_zip_python():
    """A CPython 3.11 if there is one, else any CPython; skips the case without one."""
    interps = list(h.interpreters(lo=(3, 11), hi=(3, 11))) or h.interpreters()
    if not interps:
        h.skip("no CPython")
    return interps[0]


@h.case("busy_zip_break_open_py_bt")
def busy_zip():
    with h.py_scenario(busy_zip_python(), "py_busy_zip.py") as sc:
        progress = sc.truth["progress_file"]
        wait_file(progress)
        r = h.snag("exec", str(sc.pid), "-ex", "break open", "-ex", "commands\npy-bt\ncontinue\nend",
                   "-ex", "continue --hits 3", "-ex", "info breakpoints", "-ex", "detach", timeout=120)
        out = r.stdout + r.stderr
        h.check(r.returncode == 0, "snag failed: " + out)
        h.check(out.count("Traceback (most recent call first):") == 3, "3 hits with py-bt:\n" + out)
        h.check("in find_archive" in out and "in archive_finder" in out, "loop frames:\n" + out)
        h.check("breakpoint already hit 3 times" in out, out)
        h.check("detached" in out, out)
        before = int(open(progress).read())
        end = time.time() + 20
        while time.time() < end and int(open(progress).read() or 0) <= before:
            time.sleep(0.05)
        h.check(int(open(progress).read()) > before, "progress counter stopped after detach")
        st = status_of(sc.pid)
        h.check(st["TracerPid"] == "0" and st["State"][0] in "RS", "scenario not running freely: %r" % st)


@h.case("python_aware_conditions")
def python_conditions():
    with h.py_scenario(busy_zip_python(), "py_busy_zip.py") as sc:
        wait_file(sc.truth["progress_file"])
        r = h.snag("exec", str(sc.pid),
                   "-ex", 'break open if lua: (hit:python() or {})["function"] == "note_root_visit"',
                   "-ex", "continue --seconds 60", "-ex", "py-bt",
                   "-ex", "delete", "-ex", "break open if $_py_line == 9999", "-ex", "continue --seconds 1",
                   "-ex", "info breakpoints", "-ex", "detach", timeout=120)
        out = r.stdout + r.stderr
        h.check("hit Breakpoint 1" in out and "in note_root_visit" in out, "stops in open from note_root_visit:\n" + out)
        h.check("Time limit reached" in out and "hit Breakpoint 2" not in out, "$_py_line condition never true:\n" + out)
        h.check(status_of(sc.pid)["TracerPid"] == "0", "detached")


@h.case("conditions_tbreak_ignore_multithreaded")
def conditions():
    trigger = os.path.join(h.scratch(), "go")
    with call_loop(4, 300, trigger) as sc:
        tick = sc.truth["tick"]
        original = read_mem(sc.pid, tick, 16)
        p = start_snag(sc.pid,
                       "break tick if $rdi != 0", SILENT_CONTINUE,
                       "tbreak caller_b",
                       "break caller_a if $rdi == 0",
                       "break caller_a", "commands\nsilent\ncontinue\nend",
                       "continue",
                       "info breakpoints",
                       "delete 4", "break caller_a", "ignore 5 5",
                       "continue",
                       "info breakpoints",
                       "delete 5",
                       "continue --seconds 6",
                       "info breakpoints",
                       "detach")
        wait_for_int3(sc.pid, tick)
        open(trigger, "w").close()
        out, _ = p.communicate(timeout=120)
        h.check(p.returncode == 0, "snag failed:\n" + out)
        stops = re.findall(r"hit Breakpoint (\d+), \S+ in (\w+)", out)
        h.check([s[0] for s in stops] == ["2", "5"], "stops at tbreak 2 then at 5:\n" + out)
        h.check(stops[0][1] == "caller_b" and stops[1][1] == "caller_a", out)
        listing = out.split("Num     Type")[1]
        h.check(re.search(r"^2\s", listing, re.M) is None, "tbreak 2 not deleted:\n" + out)
        h.check("breakpoint already hit 6 times" in out, "ignore 5 5: stop at the 6th hit:\n" + out)
        final = out.split("Num     Type")[-1]
        h.check("breakpoint already hit 1200 times" in final, "4 threads x 300 hits of tick:\n" + out)
        h.check("stop only if $rdi == 0" in final and final.count("already hit") == 1,
                "condition false: no hits for 3:\n" + out)
        done = wait_file(_ready_done(sc), timeout=10)
        rows = [line.split() for line in done.splitlines()]
        h.check(len(rows) == 4 and all(r[1] == "150" and r[2] == "150" for r in rows), "counts: " + done)
        h.check(read_mem(sc.pid, tick, 16) == original, "code bytes restored")


@h.case("advance_until_leave_no_breakpoint")
def advance_until():
    go = os.path.join(h.scratch(), "go")
    open(go, "w").close()  # both threads call caller_a/caller_b/tick from the start, forever
    with call_loop(2, 0, go) as sc:
        code = read_mem(sc.pid, sc.truth["tick"], 16)
        p = start_snag(sc.pid, "advance caller_b", "info breakpoints", "until tick", "bt 2",
                       "advance no_such_function", "info breakpoints")
        try:
            out, _ = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
        # exec exits 1 when a command failed, as gdb -batch does: the unknown function's.
        h.check(p.returncode == 1 and "Traceback" not in out, "snag exit %d:\n%s" % (p.returncode, out))
        h.check(re.search(r"^0x[0-9a-f]+ in caller_b$", out, re.M), "advance caller_b did not stop there:\n" + out)
        h.check(re.search(r"^#0 .* in tick \(", out, re.M), "until tick did not stop in tick:\n" + out)
        h.check('Function "no_such_function" not defined.' in out, out)
        h.check(out.count("No breakpoints.") == 2, "a temporary stop was left behind:\n" + out)
        status = status_of(sc.pid)
        h.check(status["TracerPid"] == "0" and not status["State"].startswith(("T", "t")),
                "left traced or stopped: %s %s" % (status["TracerPid"], status["State"]))
        h.check(read_mem(sc.pid, sc.truth["tick"], 16) == code, "tick's code bytes not restored")


@h.case("counting_hits_exact_while_threads_run")
def counting_hits():
    # silent/continue breakpoints are counted by the controller alone: the instruction under the
    # int3 (push %rbp) is emulated and the other threads never stop. Every hit must still count.
    trigger = os.path.join(h.scratch(), "go")
    with call_loop(4, 2000, trigger) as sc:
        tick = sc.truth["tick"]
        original = read_mem(sc.pid, tick, 16)
        p = start_snag(sc.pid, "break tick", SILENT_CONTINUE, "break caller_a", SILENT_CONTINUE,
                       "continue --hits 12000 --seconds 60", "info breakpoints", "detach")
        wait_for_int3(sc.pid, tick)
        open(trigger, "w").close()
        out, _ = p.communicate(timeout=120)
        h.check(p.returncode == 0 and "Hit limit reached" in out, "all 12000 hits seen:\n" + out)
        h.check("breakpoint already hit 8000 times" in out and "breakpoint already hit 4000 times" in out, out)
        done = wait_file(_ready_done(sc), timeout=10)
        rows = [line.split() for line in done.splitlines()]
        h.check(len(rows) == 4 and all(r[1] == "1000" and r[2] == "1000" for r in rows), "counts: " + done)
        h.check(read_mem(sc.pid, tick, 16) == original, "code bytes restored")
        h.check(status_of(sc.pid)["TracerPid"] == "0", "detached")


def _ready_done(sc):
    return os.path.join(sc.dir, "ready.done")


def source_line_of(path, text):
    """The line number of the first source line of path containing text."""
    for number, line in enumerate(open(path), 1):
        if text in line:
            return number
    raise h.Failure("%r not in %s" % (text, path))


def exe_base(pid, exe):
    """Lowest address the executable is mapped at (its load bias for a PIE linked at 0)."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            if line.rstrip().endswith(os.path.realpath(exe)):
                return int(line.split("-")[0], 16)
    raise h.Failure("%s not mapped in %d" % (exe, pid))


@h.case("break_file_line")
def break_file_line():
    src = os.path.join(h.SOURCE_DIR, "examples", "scenarios", "call_loop.c")
    b_call = source_line_of(src, "caller_b(&g_ticks[index]);")
    tick_line = source_line_of(src, "void tick(")
    worker_line = source_line_of(src, "static void* worker(")
    trigger = os.path.join(h.scratch(), "go")
    open(trigger, "w").close()
    with call_loop(1, 0, trigger) as sc:
        exe = h.scenario_bin("call_loop")
        r = h.snag("exec", str(sc.pid), "-ex", "break call_loop.c:%d" % b_call,
                   "-ex", "tbreak scenarios/call_loop.c:%d" % tick_line, "-ex", "break call_loop.c:%d" % worker_line,
                   "-ex", "info breakpoints", "-ex", "continue", "-ex", "bt", "-ex", "continue", "-ex", "bt",
                   "-ex", "info breakpoints", "-ex", "detach", timeout=120)
        out = r.stdout + r.stderr
        h.check(r.returncode == 0, "snag failed:\n" + out)
        listing = out.split("Num     Type")[1]
        h.check(re.search(r"^1 .* in worker at \S*call_loop.c:%d$" % b_call, listing, re.M), "info breakpoints:\n" + out)
        h.check(re.search(r"^2 .* in tick at \S*call_loop.c:%d$" % tick_line, listing, re.M), out)
        bts = re.findall(r"^#0 .*$", out, re.M)
        h.check(len(bts) == 2, "two stops:\n" + out)
        # Either stop may come first (the tbreak on tick is hit from caller_a or caller_b).
        h.check(any(re.search(r"in worker \(arg=0x[0-9a-f]+\) at \S*call_loop.c:%d$" % b_call, bt) for bt in bts),
                "frame #0 at the line:\n" + out)
        h.check(any(re.search(r"in tick \(counter=0x[0-9a-f]+ <g_ticks>\) at \S*call_loop.c:%d$" % tick_line, bt) for bt in bts),
                "tick's line:\n" + out)
        h.check(re.search(r"^#1 .* in caller_[ab] \(counter=0x[0-9a-f]+ <g_ticks>\)", out, re.M), "tick called from caller_a/b:\n" + out)
        h.check(status_of(sc.pid)["TracerPid"] == "0", "detached")
        if not shutil.which("gdb"):
            return
        # The same addresses as gdb's, relative to the executable's load address.
        base = exe_base(sc.pid, exe)
        ours = [int(a, 16) - base for a in re.findall(r"^(?:Temporary b|B)reakpoint \d at (0x[0-9a-f]+)", out, re.M)]
        g = subprocess.run(["gdb", "-nx", "-batch", "-ex", "break call_loop.c:%d" % b_call,
                            "-ex", "break call_loop.c:%d" % tick_line, "-ex", "break call_loop.c:%d" % worker_line, exe],
                           capture_output=True, text=True, timeout=60)
        theirs = [int(a, 16) for a in re.findall(r"^Breakpoint \d at (0x[0-9a-f]+)", g.stdout, re.M)]
        h.check(ours == theirs, "addresses %s vs gdb's %s\n%s%s" % (ours, theirs, out, g.stdout))


LATE_LIB_C = r"""
__attribute__((noinline)) int late_fn(int x) {
    return x + 1;
}
"""

LATE_MAIN_C = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
/* argv: LIBRARY TRIGGER DONE [ROUNDS]. Ready in $SNAG_READY; dlopen()s LIBRARY once TRIGGER exists,
   calls late_fn 100 times (then ROUNDS times: dlclose, dlopen, 100 calls), writes the sum to DONE. */
static void put(const char *path, int value) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    fprintf(f, "%d\n", value);
    fclose(f);
    rename(tmp, path);
}
int main(int argc, char **argv) {
    struct timespec ms = {0, 1000000};
    if (argc < 4 || !getenv("SNAG_READY")) return 2;
    put(getenv("SNAG_READY"), getpid());
    while (access(argv[2], F_OK) != 0) nanosleep(&ms, NULL);
    void *lib = dlopen(argv[1], RTLD_NOW);
    int (*late_fn)(int) = lib ? (int (*)(int))dlsym(lib, "late_fn") : NULL;
    int value = 0;
    for (int i = 0; late_fn && i < 100; ++i) value = late_fn(value);
    for (int round = 0; argc > 4 && round < atoi(argv[4]); ++round) {  /* dlclose, dlopen again */
        dlclose(lib);
        lib = dlopen(argv[1], RTLD_NOW);
        late_fn = lib ? (int (*)(int))dlsym(lib, "late_fn") : NULL;
        for (int i = 0; late_fn && i < 100; ++i) value = late_fn(value);
    }
    put(argv[3], value);
    for (;;) pause();
}
"""


def build_late_loader(d):
    files = {}
    for name, text in (("late.c", LATE_LIB_C), ("late_main.c", LATE_MAIN_C)):
        files[name] = os.path.join(d, name)
        open(files[name], "w").write(text)
    lib, exe = os.path.join(d, "liblate.so"), os.path.join(d, "late_main")
    for cmd in (["gcc", "-g", "-O0", "-fPIC", "-shared", "-o", lib, files["late.c"]],
                ["gcc", "-g", "-O0", "-o", exe, files["late_main.c"], "-ldl"]):
        if subprocess.run(cmd).returncode != 0:
            h.skip("no C compiler")
    return lib, exe


@h.case("pending_breakpoint_resolved_on_dlopen")
def pending():
    d = h.scratch()
    lib, exe = build_late_loader(d)
    # `break FUNCTION` stops at the first instruction (no prologue skipping): the opening line.
    decl_line = LATE_LIB_C.count("\n", 0, LATE_LIB_C.index("int late_fn(")) + 1
    trigger, done = os.path.join(d, "go"), os.path.join(d, "done")
    with h.start_scenario([exe, lib, trigger, done]) as sc:
        p = start_snag(sc.pid, "break late_fn", "info breakpoints", "continue", "bt", "info breakpoints",
                       "commands 1\nsilent\ncontinue\nend", "continue --hits 99", "info breakpoints", "detach")
        head = ""
        while "pending." not in head:  # the breakpoint is set: let the program dlopen
            line = p.stdout.readline()
            if not line:
                break
            head += line
        open(trigger, "w").close()
        out = head + p.stdout.read()  # not communicate(): it would skip what readline buffered
        p.wait(timeout=120)
        h.check(p.returncode == 0, "snag failed:\n" + out)
        h.check("Breakpoint 1 (late_fn) pending." in out, out)
        listings = out.split("Num     Type")
        h.check(re.search(r"^1\s.*<PENDING>\s+late_fn$", listings[1], re.M), "pending in info breakpoints:\n" + out)
        h.check(re.search(r"hit Breakpoint 1, 0x[0-9a-f]+ in late_fn", out), "stops in late_fn:\n" + out)
        h.check(re.search(r"^#0 .* in late_fn \(x=-?\d+\) at \S*late.c:%d$" % decl_line, out, re.M), "bt in the library:\n" + out)
        h.check(re.search(r"^#1 .* in main \(argc=4, argv=0x[0-9a-f]+\)", out, re.M), out)
        h.check(re.search(r"^1\s.*in late_fn at \S*late.c:%d$" % decl_line, listings[2], re.M), "resolved:\n" + out)
        h.check("breakpoint already hit 100 times" in listings[3], "every call counted:\n" + out)
        h.check(wait_file(done, timeout=10).strip() == "100", "the program ran to its end")
        h.check(status_of(sc.pid)["TracerPid"] == "0", "detached")


@h.case("pending_breakpoint_across_dlclose")
def pending_dlclose():
    # dlclose unmaps the library: its site is forgotten (nothing written there), the breakpoint
    # is pending again and resolved at the next dlopen; every call of the 4 loads is counted.
    d = h.scratch()
    lib, exe = build_late_loader(d)
    trigger, done = os.path.join(d, "go"), os.path.join(d, "done")
    with h.start_scenario([exe, lib, trigger, done, "3"]) as sc:
        p = start_snag(sc.pid, "break late_fn", SILENT_CONTINUE, "continue --hits 400 --seconds 60",
                       "info breakpoints", "detach")
        head = p.stdout.readline()
        open(trigger, "w").close()
        out = head + p.stdout.read()
        p.wait(timeout=120)
        h.check(p.returncode == 0 and "pending." in head and "Hit limit reached" in out, out)
        h.check("breakpoint already hit 400 times" in out, out)
        h.check(wait_file(done, timeout=10).strip() == "400", "the program ran to its end")
        h.check(status_of(sc.pid)["TracerPid"] == "0", "detached")


@h.case("pending_without_dynamic_linker")
def pending_static():
    d = h.scratch()
    src, exe = os.path.join(d, "static.c"), os.path.join(d, "static")
    open(src, "w").write("#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
                         "int main(void) { fclose(fopen(getenv(\"SNAG_READY\"), \"w\")); for (;;) pause(); }\n")
    if subprocess.run(["gcc", "-static", "-o", exe, src]).returncode != 0:
        h.skip("no static libc")
    with h.start_scenario([exe]) as sc:
        r = h.snag("exec", str(sc.pid), "-ex", "break not_loaded_yet_fn", timeout=60)
        out = r.stdout + r.stderr
        h.check(r.returncode != 0 and "not defined in any loaded module" in out and "dynamic linker" in out, out)
        h.check(status_of(sc.pid)["TracerPid"] == "0", "detached")


@h.case("trace_counts_match_scenario")
def trace_counts():
    trigger = os.path.join(h.scratch(), "go")
    with call_loop(4, 1000, trigger) as sc:
        p = start_snag(sc.pid, "trace tick --duration 10")
        wait_for_int3(sc.pid, sc.truth["tick"])
        open(trigger, "w").close()
        out, _ = p.communicate(timeout=120)
        h.check(p.returncode == 0, out)
        done = wait_file(_ready_done(sc), timeout=10)
        rows = [line.split() for line in done.splitlines()]
        a = sum(int(r[1]) for r in rows)
        b = sum(int(r[2]) for r in rows)
        m = re.search(r"(\d+) hits, (\d+) distinct stacks", out)
        h.check(m and int(m.group(1)) == a + b, "total %d vs %d:\n%s" % (a + b, int(m.group(1)) if m else -1, out))
        blocks = re.findall(r"(\d+) hits \([\d.]+%\):\n((?:    .*\n)+)", out)
        per = {}
        for count, frames in blocks:
            caller = "caller_a" if "caller_a" in frames else "caller_b" if "caller_b" in frames else "?"
            per[caller] = per.get(caller, 0) + int(count)
        for caller, truth in (("caller_a", a), ("caller_b", b)):
            got = per.get(caller, 0)
            h.check(abs(got - truth) <= truth * 0.01, "%s: %d vs %d\n%s" % (caller, got, truth, out))


@h.case("safety_signals_50_times")
def safety():
    with call_loop(2, 0, "") as sc:
        tick = sc.truth["tick"]
        original = read_mem(sc.pid, tick, 16)
        sigs = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
        for i in range(50):
            action = "commands\nsilent\nbt\ncontinue\nend" if i % 2 else SILENT_CONTINUE
            if i % 5 == 4:  # trace: hits handled while the other thread runs
                p = start_snag(sc.pid, "trace tick --duration 60")
            else:
                p = start_snag(sc.pid, "break tick", "break caller_a", action, "continue --seconds 60")
            wait_for_int3(sc.pid, tick)
            time.sleep(random.uniform(0, 0.03))
            p.send_signal(sigs[i % 3])
            try:
                p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                raise h.Failure("snag did not exit on %s" % sigs[i % 3])
            st = status_of(sc.pid)
            h.check(st["State"][0] in "RS" and st["TracerPid"] == "0",
                    "round %d (%s): target %r" % (i, sigs[i % 3].name, st))
            h.check(read_mem(sc.pid, tick, 16) == original, "round %d: code bytes differ" % i)
        h.check(sc.alive(), "scenario died")


CRASH_C = r"""
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) void fault_here(int *p) { *p = 42; }
__attribute__((noinline)) void abort_here(void) { abort(); }
int main(int argc, char **argv) {
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);  /* not fatal: passes through */
    if (argc > 1 && argv[1][0] == 'a') abort_here();
    fault_here((int *)0);
    return 0;
}
"""


def crash_program():
    d = h.scratch()
    src, exe = os.path.join(d, "crash.c"), os.path.join(d, "crash")
    open(src, "w").write(CRASH_C)
    if subprocess.run(["gcc", "-g", "-O0", "-o", exe, src]).returncode != 0:
        h.skip("no C compiler")
    return exe


@h.case("jit_run_segfault_and_abort")
def jit():
    if not h.has_subcommand("run"):
        h.skip("snag run not built")
    exe = crash_program()
    core = os.path.join(h.scratch(), "seg.core")
    r = h.snag("run", "--on-crash", "dump", "-o", core, "--", exe, "segv", timeout=120)
    h.check(r.returncode == 128 + signal.SIGSEGV, "exit %d:\n%s" % (r.returncode, r.stderr))
    h.check("received SIGSEGV" in r.stderr and "in fault_here (p=0x0)" in r.stderr, r.stderr)
    h.check(os.path.getsize(core) > 0, "core written")
    bt = h.snag("bt", core, timeout=120)
    h.check("fault_here" in bt.stdout, "the core shows the faulting frame:\n" + bt.stdout + bt.stderr)
    r = h.snag("run", "--", exe, "abort", timeout=120)
    h.check(r.returncode == 128 + signal.SIGABRT, "exit %d:\n%s" % (r.returncode, r.stderr))
    h.check("received SIGABRT" in r.stderr and "in abort_here ()" in r.stderr, r.stderr)
    # The default mode runs the pack on a core written at the signal: the crash rule sees it.
    r = h.snag("run", "--", exe, "segv", timeout=120)
    h.check(r.returncode == 128 + signal.SIGSEGV, "exit %d:\n%s" % (r.returncode, r.stderr))
    h.check(re.search(r"crash \[Crash\].*\n.*SIGSEGV \(SEGV_MAPERR: address not mapped\) at address 0x0 .*fault_here", r.stderr),
            "the crash finding names the signal, address and frame:\n" + r.stderr)
    header = [l for l in r.stderr.splitlines() if l.startswith("snag analyze:")]
    h.check(header and "Python" not in header[0], "a C program is not taken for Python: %s" % header)
    pid = re.search(r"process (\d+) received", r.stderr).group(1)
    tmp = os.environ.get("TMPDIR") or "/tmp"
    h.check(not [f for f in os.listdir(tmp) if f.startswith("snag-jit-%s-" % pid)], "the temporary core is removed")
    child = subprocess.Popen(["/bin/sh", "-c", "sleep 1; exec %s abort" % exe])
    w = h.snag("watch", str(child.pid), timeout=120)
    h.check(w.returncode == 128 + signal.SIGABRT and "received SIGABRT" in w.stderr, "watch:\n" + w.stderr)
    h.check(child.wait(timeout=30) == -signal.SIGABRT, "the watched process died of its own SIGABRT")
    ok = h.snag("run", "--", "/bin/sh", "-c", "exit 3", timeout=60)
    h.check(ok.returncode == 3, "exit status of a clean exit: %d %s" % (ok.returncode, ok.stderr))


HANDLER_C = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void on_signal(int signo, siginfo_t *info, void *ctx) {
    (void)ctx;
    printf("signal=%d code=%d addr=%p pid=%d self=%d\n", signo, info->si_code, info->si_addr,
           (int)info->si_pid, (int)getpid());
    fflush(stdout);
    _exit(7);
}
int main(int argc, char **argv) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    if (argc > 1 && argv[1][0] == 'a') abort();
    *(volatile int *)0x10 = 42;
    return 0;
}
"""


@h.case("jit_original_siginfo")
def jit_siginfo():
    """The program's own handler sees the siginfo the kernel gave (a fault's SEGV_MAPERR and
    address, abort's SI_TKILL from itself), not snag's kill(); its exit status is snag's."""
    if not h.has_subcommand("run"):
        h.skip("snag run not built")
    d = h.scratch()
    src, exe = os.path.join(d, "handler.c"), os.path.join(d, "handler")
    open(src, "w").write(HANDLER_C)
    if subprocess.run(["gcc", "-g", "-O0", "-o", exe, src]).returncode != 0:
        h.skip("no C compiler")
    for mode in ("dump", "analyze", "repl-less"):
        args = ["--on-crash", mode, "-o", os.path.join(d, "h.core")] if mode == "dump" else \
            (["--on-crash", "analyze"] if mode == "analyze" else [])
        r = h.snag("run", *args, "--", exe, timeout=120)
        h.check(r.returncode == 7, "%s: the handler's exit status 7, got %d:\n%s" % (mode, r.returncode, r.stderr[-1500:]))
        h.check("signal=11 code=1 addr=0x10 " in r.stdout, "%s: SEGV_MAPERR at 0x10 in the handler: %r" % (mode, r.stdout))
    r = h.snag("run", "--", exe, "abort", timeout=120)
    m = re.search(r"signal=6 code=-6 addr=\S+ pid=(\d+) self=(\d+)", r.stdout)
    h.check(m and m.group(1) == m.group(2) and r.returncode == 7, "abort: SI_TKILL from itself: %r %d" % (r.stdout, r.returncode))
    child = subprocess.Popen(["/bin/sh", "-c", "sleep 1; exec %s" % exe], stdout=subprocess.PIPE, text=True)
    w = h.snag("watch", str(child.pid), timeout=120)
    out, _ = child.communicate(timeout=30)
    h.check("received SIGSEGV" in w.stderr and "signal=11 code=1 addr=0x10 " in out and child.returncode == 7,
            "watch: %r %r %d" % (w.stderr[-800:], out, child.returncode))


SECCOMP_C = r"""
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    return (int)syscall(SYS_getppid);
}
"""


@h.case("jit_siginfo_psinfo_in_analyze")
def jit_siginfo_psinfo():
    """A seccomp trap's core: analyze shows the whole siginfo (SYS_SECCOMP, the denied system call
    by name, arch, call address) and psinfo (state, ids, args), in text, JSON and crash evidence."""
    if not h.has_subcommand("run"):
        h.skip("snag run not built")
    d = h.scratch()
    src, exe, core = os.path.join(d, "sys.c"), os.path.join(d, "sys"), os.path.join(d, "sys.core")
    open(src, "w").write(SECCOMP_C)
    if subprocess.run(["gcc", "-g", "-O0", "-o", exe, src]).returncode != 0:
        h.skip("no C compiler or seccomp headers")
    r = h.snag("run", "--on-crash", "dump", "-o", core, "--", exe, timeout=120)
    h.check(r.returncode == 128 + signal.SIGSYS, "exit %d:\n%s" % (r.returncode, r.stderr[-1500:]))
    pid = int(re.search(r"process (\d+) received SIGSYS", r.stderr).group(1))
    text = h.snag("analyze", core, timeout=120).stdout
    h.check("signal: SIGSYS code 1 (SYS_SECCOMP) errno 0, system call getppid (110), arch 0xc000003e" in text, text)
    h.check("seccomp denied system call getppid, number 110" in text, text)
    want_ps = "process: state t, uid %d gid %d, pid %d ppid " % (os.getuid(), os.getgid(), pid)
    h.check(want_ps in text and text.split("args: ")[1].startswith(exe), "%r in %s" % (want_ps, text))
    result = json.loads(h.snag("analyze", core, "--format", "json", timeout=120).stdout)
    sig, ps = result["target"]["signal"], result["target"]["psinfo"]
    h.check(sig["signo"] == signal.SIGSYS and sig["syscall"] == 110 and sig["syscall_name"] == "getppid"
            and sig["call_address"] > 0, "signal %s" % sig)
    h.check(ps["pid"] == pid and ps["fname"] == "sys" and ps["uid"] == os.getuid() and ps["gid"] == os.getgid()
            and ps["pgrp"] == os.getpgrp() and ps["sid"] == os.getsid(0), "psinfo %s, test pgrp %d sid %d"
            % (ps, os.getpgrp(), os.getsid(0)))
    crash = [f for f in result["findings"] if f["rule"] == "crash"][0]
    h.check(crash["evidence"]["siginfo"]["syscall_name"] == "getppid" and crash["evidence"]["psinfo"]["pid"] == pid,
            "crash evidence %s" % crash["evidence"])


def repl_pty(argv):
    """argv at a terminal with its own history file; expect() waits up to 60 s (a crash under load)."""
    return h.Pty(argv, env_extra={"SNAG_HISTORY": os.path.join(h.scratch(), "history")}, timeout=60)


@h.case("jit_on_crash_repl_and_kill_confirmation")
def jit_repl():
    if not h.has_subcommand("run"):
        h.skip("snag run not built")
    exe = crash_program()
    t = repl_pty([h.SNAG, "run", "--on-crash", "repl", "--", exe, "segv"])
    try:
        t.expect(r"received SIGSEGV")
        t.expect(r"^\(snag\) ")
        t.line("bt")
        t.expect(r"^#0 .* in fault_here \(p=0x0\) at \S*crash.c:\d+")
        t.expect(r"^#1 .* in main \(argc=2, argv=0x[0-9a-f]+\)")
        t.expect(r"^\(snag\) ")
        t.line("kill")  # at a terminal: asks first; "n" keeps the process
        t.expect(r"Kill the program being debugged\? \(y or n\) ")
        t.line("n")
        t.expect(r"Not confirmed\.")
        t.expect(r"^\(snag\) ")
        t.line("quit")
        code = t.exit_status()
        h.check(code == 128 + signal.SIGSEGV, "exit status %r (the program's own SIGSEGV):\n%s" % (code, t.seen))
    finally:
        t.close()
    # Answering y kills it (SIGKILL, not the crash signal); scripts never ask.
    t = repl_pty([h.SNAG, "run", "--on-crash", "repl", "--", exe, "segv"])
    try:
        t.expect(r"^\(snag\) ")
        t.line("kill")
        t.expect(r"\(y or n\) ")
        t.line("y")
        t.expect(r"killed\]")
        t.line("quit")
        code = t.exit_status()
        h.check(code == 128 + signal.SIGKILL, "exit status %r after kill:\n%s" % (code, t.seen))
    finally:
        t.close()
    # snag watch PID --on-crash repl: the same REPL on a process snag did not start.
    trigger = os.path.join(h.scratch(), "crash-now")
    child = subprocess.Popen(["/bin/sh", "-c", "while [ ! -e %s ]; do sleep 0.01; done; exec %s segv" % (trigger, exe)])
    t = repl_pty([h.SNAG, "watch", "--on-crash", "repl", str(child.pid)])
    try:
        deadline = time.time() + 30
        while status_of(child.pid)["TracerPid"] == "0" and time.time() < deadline:
            time.sleep(0.01)
        open(trigger, "w").close()
        t.expect(r"received SIGSEGV")
        t.expect(r"^\(snag\) ")
        t.line("bt")
        t.expect(r"^#0 .* in fault_here \(p=0x0\)")
        t.line("quit")
        code = t.exit_status()
        h.check(code == 128 + signal.SIGSEGV, "watch: exit status %r:\n%s" % (code, t.seen))
        h.check(child.wait(timeout=30) == -signal.SIGSEGV, "the watched process died of its own SIGSEGV")
    finally:
        t.close()
        if child.poll() is None:
            child.kill()
            child.wait()
    with call_loop(1, 0, "") as sc:
        r = h.snag("exec", str(sc.pid), "-ex", "kill", timeout=60)
        h.check("Kill the program" not in r.stdout and "killed]" in r.stdout, r.stdout + r.stderr)
        h.check(sc.proc.wait(timeout=10) == -signal.SIGKILL, "killed without asking in batch mode")


if __name__ == "__main__":
    h.main()
