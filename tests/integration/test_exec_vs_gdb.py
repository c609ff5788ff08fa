"""Exact-sequence scripts: the same commands run by `gdb -batch` and `snag exec` on the same core.

A core of examples/scenarios/native_threads (gcore) is examined with examples/scripts/dpp.gdb
(`dpp $rsp 8`) and examples/scripts/stack_words.gdb (p $rip, p/x $rsp, x/4ga $rsp, x/8xb, ...).
`thread apply all bt full` must print the same locals for the scenario's own (-O0) frames.
Both tools print a marker first (`echo @@START`) so gdb's banner is left out; every stdout line
after it must match byte for byte. Errors gdb prints (e.g. "Cannot access memory at address 0x1"
when dpp reaches a word that is not an address) must be printed by snag too, on stderr.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EXE = h.ARGS.native_threads or h.scenario_bin("native_threads")
SCRIPTS = os.path.join(os.path.dirname(h.SCENARIOS), "scripts")
MARKER = "@@START"

def core():
    """One gcore core of native_threads, shared by the cases."""
    return h.native_threads_core(EXE, "exec")


def after_marker(text):
    lines = text.splitlines()
    if MARKER not in lines:
        return None
    return lines[lines.index(MARKER) + 1:]


def run_gdb(commands, scripts=()):
    args = ["gdb", "-nx", "-batch", "-c", core(), EXE]
    for s in scripts:
        args += ["-x", s]
    args += ["-ex", "echo %s\\n" % MARKER]
    for c in commands:
        args += ["-ex", c]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return after_marker(out.stdout), out.stderr


def run_snag(commands, scripts=()):
    args = ["exec", core()]
    for s in scripts:
        args += ["-x", s]
    args += ["-ex", "echo %s\\n" % MARKER]
    for c in commands:
        args += ["-ex", c]
    out = h.snag(*args)
    return after_marker(out.stdout), out.stderr, out.returncode


def compare(commands, scripts=()):
    gdb_lines, gdb_err = run_gdb(commands, scripts)
    snag_lines, snag_err, code = run_snag(commands, scripts)
    h.check(gdb_lines is not None, "gdb did not run the commands: %s" % gdb_err[-500:])
    h.check(snag_lines is not None, "snag did not run the commands (exit %d): %s" % (code, snag_err[-500:]))
    for i, (g, s) in enumerate(zip(gdb_lines, snag_lines)):
        h.check(g == s, "line %d differs:\n  gdb:  %r\n  snag: %r\ngdb stdout:\n%s\nsnag stdout:\n%s\nsnag stderr:\n%s"
                % (i + 1, g, s, "\n".join(gdb_lines), "\n".join(snag_lines), snag_err))
    h.check(len(gdb_lines) == len(snag_lines), "gdb printed %d lines, snag %d:\n%s\n---\n%s"
            % (len(gdb_lines), len(snag_lines), "\n".join(gdb_lines), "\n".join(snag_lines)))
    for err in [l for l in gdb_err.splitlines() if l.startswith("Cannot access memory")]:
        h.check(err in snag_err, "gdb reported %r, snag did not (stderr: %r)" % (err, snag_err))
    return gdb_lines, code


@h.case("dpp script prints what gdb prints")
def test_dpp():
    lines, _ = compare(["dpp $rsp 8"], [os.path.join(SCRIPTS, "dpp.gdb")])
    h.check(lines and lines[0].startswith("0x"), "dpp printed nothing: %r" % lines)


@h.case("dpp from a later stack slot")
def test_dpp_offset():
    compare(["dpp $rsp+16 4", "dpp $rbp 2"], [os.path.join(SCRIPTS, "dpp.gdb")])


@h.case("dpp over the scenario's table of string pointers")
def test_dpp_table():
    # native_threads' static `threads` array starts with two char pointers per entry, so dpp
    # prints several lines before reaching the -1 syscall number.
    lines, _ = compare(["dpp (long)&threads 8", "x/8ga &threads"], [os.path.join(SCRIPTS, "dpp.gdb")])
    h.check(len(lines) >= 6, "expected several dpp and x lines: %r" % lines)


@h.case("another thread: registers and memory follow the selected thread")
def test_thread_two():
    # Thread 2 spins in spin_forever, in the scenario's own code; `thread 2` is a stdlib command
    # whose banner differs from gdb's, so only value and memory lines are compared.
    commands = ["thread 2", "p $rip", "x/2ga $rsp", "p $rsp", "dpp $rsp 2"]
    scripts = [os.path.join(SCRIPTS, "dpp.gdb")]
    gdb_lines, _ = run_gdb(commands, scripts)
    snag_lines, snag_err, _ = run_snag(commands, scripts)
    h.check(gdb_lines is not None and snag_lines is not None, "a tool failed: %s" % snag_err)
    keep = lambda lines: [l for l in lines if l.startswith("$") or l.startswith("0x")]
    h.check(keep(gdb_lines) == keep(snag_lines), "gdb:\n%s\nsnag:\n%s\n%s"
            % ("\n".join(keep(gdb_lines)), "\n".join(keep(snag_lines)), snag_err))
    h.check(any("spin_forever" in l for l in keep(snag_lines)), "thread 2 is not the spinner: %r" % snag_lines)


@h.case("print reads the selected frame's arguments and locals")
def test_frame_variables():
    # The recurser thread (announced 4th: thread 5) parks in pause() under recurse(depth=0),
    # recurse(1)...; its -O0 frames keep `depth` on the stack. The sleeper (thread 4) has a
    # struct local. Only value lines are compared: thread/frame banners differ.
    commands = ["thread 5", "frame 2", "p depth", "p depth + 1", "p/x depth", "frame 3", "p depth",
                "thread 4", "frame 2", "p ts"]
    gdb_lines, _ = run_gdb(commands)
    snag_lines, snag_err, _ = run_snag(commands)
    h.check(gdb_lines is not None and snag_lines is not None, "a tool failed: %s" % snag_err)
    keep = lambda lines: [l for l in lines if l.startswith("$")]
    h.check(keep(gdb_lines)[:5] == keep(snag_lines)[:5], "gdb:\n%s\nsnag:\n%s\n%s"
            % ("\n".join(gdb_lines), "\n".join(snag_lines), snag_err))
    h.check(len(keep(snag_lines)) >= 5 and keep(snag_lines)[0] != keep(snag_lines)[4],
            "two recurse frames gave the same depth: %r" % snag_lines)


@h.case("registers and stack words: p, x/4ga, x/8xb, printf, if")
def test_stack_words():
    compare([], [os.path.join(SCRIPTS, "stack_words.gdb")])


@h.case("expressions, value history and formats")
def test_expressions():
    compare(["p 1 + 2 * 3", "p/x -1", "p $1 * 2", "p $", "p $$2", "p 2147483647 + 1", "p 10/3",
             "p (char)65", "p/o 8", "p/t 5", "p/c 65", "p (unsigned char)300", "p/x (short)-1",
             "p sizeof(long)", "set $v = 41", "p $v + 1", "output 5", "echo \\n",
             "p $rsp + 8", "p (long *)$rsp + 1", "p *(long *)$rsp", "p/x *(long *)$rsp",
             "p $pc", "p $sp", "p $eax", "printf \"%d %x %lx %c %%\\n\", 10, 255, 4096, 65"])


@h.case("info symbol: name, offset, section and file as gdb prints them")
def test_info_symbol():
    # Symbols of the scenario's executable: libc's file path and alias choice are the
    # symbolizer's (gdb names the link-map path and the global alias).
    compare(["info symbol spin_forever", "info symbol spin_forever+3", "info symbol &parked_count",
             "info symbol &threads", "info symbol 0"])


@h.case("DWARF struct members through casts")
def test_struct_members():
    compare(["p ((struct parked *)&threads)->name", "p ((struct parked *)&threads)[1].tid",
             "p/x ((struct parked *)&threads)[3].syscall_nr", "output ((struct parked *)&threads)[2].function",
             "echo \\n", "p *((struct parked *)&threads)[2].name", "p sizeof(struct parked)"])


SCENARIO_FUNCTIONS = {"main", "spin_forever", "wait_for_mutex", "sleeper", "recurse", "spinner_main",
                      "mutex_main", "sleeper_main", "recurser_main"}
FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(")


def frame_locals(lines):
    """{(thread number, function, n-th frame of it): [local lines]} of `thread apply all bt full`."""
    out, thread, key, seen = {}, None, None, {}
    for line in lines:
        t = re.match(r"^Thread (\d+) ", line)
        f = FRAME.match(line)
        if t:
            thread, key = int(t.group(1)), None
        elif f:
            n = seen.get((thread, f.group(2)), 0)
            seen[(thread, f.group(2))] = n + 1
            key = (thread, f.group(2), n)
            out[key] = []
        elif key and (line.startswith("        ") or line in ("No locals.", "No symbol table info available.")):
            out[key].append(line)
    return out


@h.case("thread apply all bt: every line as gdb prints it")
def test_thread_apply_all_bt():
    # Frame addresses as gdb shows them: none on a frame that an inlined call sits in
    # (___pthread_mutex_lock around lll_mutex_lock_optimized) nor on an inlined frame 0; main's
    # thread ends at main (gdb's default backtrace past-main off).
    lines, _ = compare(["thread apply all bt"])
    h.check(any(" in main () at " in l for l in lines), "no main frame: %r" % lines)
    h.check(not any("__libc_start_call_main" in l for l in lines), "frames past main shown: %r" % lines)


@h.case("bt full: locals of the scenario's -O0 frames as gdb prints them")
def test_bt_full_locals():
    gdb_lines, gdb_err = run_gdb(["thread apply all bt full"])
    snag_lines, snag_err, code = run_snag(["thread apply all bt full"])
    h.check(gdb_lines and snag_lines, "a tool failed: %s %s" % (gdb_err[-300:], snag_err[-300:]))
    gdb, snag = frame_locals(gdb_lines), frame_locals(snag_lines)
    keys = [k for k in gdb if k[1] in SCENARIO_FUNCTIONS]
    h.check(len(keys) >= 10, "gdb showed few scenario frames: %r" % keys)
    for k in keys:
        h.check(snag.get(k) == gdb[k], "thread %d, %s (#%d of it):\n  gdb:  %r\n  snag: %r"
                % (k[0], k[1], k[2], gdb[k], snag.get(k)))
    # The frames with locals: sleeper's struct and main's arrays, pointers and strings.
    sleeper = [l for (_, fn, _), ls in snag.items() if fn == "sleeper" for l in ls]
    h.check("        ts = {tv_sec = 3600, tv_nsec = 0}" in sleeper, "sleeper: %r" % sleeper)
    main = [l for (_, fn, _), ls in snag.items() if fn == "main" for l in ls]
    h.check(any(l.startswith("        bodies = {0x") and "<spinner_main>" in l for l in main), "main: %r" % main)


@h.case("info args and info locals of selected -O0 frames")
def test_info_args():
    # Thread 5 is the recurser (recurse(depth) frames over recurser_main(arg)), thread 4 the
    # sleeper; both tools number threads and these frames alike. Banners differ (gdb prints the
    # arguments in frame lines), so only the variable lines are compared.
    commands = ["thread 5", "frame 1", "info args", "frame 2", "info args", "info locals",
                "thread 4", "frame 2", "info args", "info locals", "frame 3", "info args"]
    gdb_lines, _ = run_gdb(commands)
    snag_lines, snag_err, _ = run_snag(commands)
    h.check(gdb_lines is not None and snag_lines is not None, "a tool failed: %s" % snag_err)
    keep = lambda lines: [l for l in lines if re.match(r"^[a-z_]+ = |^No (arguments|locals)\.$", l)]
    h.check(keep(gdb_lines) == keep(snag_lines), "gdb:\n%s\nsnag:\n%s\n%s"
            % ("\n".join(keep(gdb_lines)), "\n".join(keep(snag_lines)), snag_err))
    h.check("depth = 1" in keep(snag_lines) and "arg = 0x0" in keep(snag_lines), "%r" % snag_lines)


def locals_types_exe():
    import shutil
    if not shutil.which("gcc"):
        h.skip("no gcc to build tests/integration/locals_types.c")
    exe = os.path.join(h.scratch(), "locals_types")
    src = os.path.join(h.HERE, "locals_types.c")
    built = subprocess.run(["gcc", "-g", "-O0", "-o", exe, src], capture_output=True, text=True)
    h.check(built.returncode == 0, "gcc: %s" % built.stderr)
    return exe


@h.case("bt full: C types (structs, bitfields, unions, arrays, strings, enums) as gdb prints them")
def test_bt_full_types():
    exe = locals_types_exe()
    with h.start_scenario([exe]) as sc:
        core_path = h.gcore(sc.pid, os.path.join(sc.dir, "locals.core"))
    gdb = subprocess.run(["gdb", "-nx", "-batch", "-c", core_path, exe, "-ex", "echo %s\\n" % MARKER,
                          "-ex", "bt full"], capture_output=True, text=True, timeout=120)
    out = h.snag("exec", core_path, "-ex", "echo %s\\n" % MARKER, "-ex", "bt full")
    gdb_main = frame_locals(["Thread 1 "] + (after_marker(gdb.stdout) or [])).get((1, "main", 0))
    snag_main = frame_locals(["Thread 1 "] + (after_marker(out.stdout) or [])).get((1, "main", 0))
    h.check(gdb_main and len(gdb_main) > 20, "gdb printed no locals for main: %s" % gdb.stdout[-1000:])
    h.check(snag_main == gdb_main, "main's locals differ:\n%s" % "\n".join(
        "  gdb:  %s\n  snag: %s" % (g, s) for g, s in zip(gdb_main, snag_main or []) if g != s)
        + "\n(gdb %d lines, snag %d)" % (len(gdb_main), len(snag_main or [])))


# Expressions over main's locals in locals_types.c: members through . and ->, addresses of
# locals, dereferences, array elements (one and two dimensions), bitfields, enums, doubles.
LOCAL_EXPRESSIONS = ["p o.n", "p o.in", "p o.in.s", "p o.in.tag", "p o.d", "p o.col", "p o.p", "p &o", "p &o.in",
                     "p *ip", "p ip", "p mixed[2]", "p mixed[20]", "p &mixed", "p &mixed[3]", "p mixed + 1",
                     "p two[1][2]", "p two[1]", "p &two", "p b.b", "p b.a", "p w.c[1]", "p *o.name", "p &c",
                     "p neg", "p other", "p *longp", "p (&o)->in.s", "p sizeof(o)", "p *&o", "p/x o.n",
                     "p &ip", "p *&ip", "p o.in.tag[1]", "p o.name", "p depth"]


@h.case("print of a frame's locals: members, &local, *ptr, arr[i] as gdb evaluates them, live and on a core")
def test_local_expressions():
    exe = locals_types_exe()
    commands = ["frame 1"] + LOCAL_EXPRESSIONS
    with h.start_scenario([exe]) as sc:
        live = h.snag("exec", str(sc.pid), "-ex", "echo %s\\n" % MARKER, *[a for c in commands for a in ("-ex", c)])
        core_path = h.gcore(sc.pid, os.path.join(sc.dir, "locals.core"))
    args = [a for c in commands for a in ("-ex", c)]
    gdb = subprocess.run(["gdb", "-nx", "-batch", "-c", core_path, exe, "-ex", "echo %s\\n" % MARKER] + args,
                         capture_output=True, text=True, timeout=120)
    out = h.snag("exec", core_path, "-ex", "echo %s\\n" % MARKER, *args)
    keep = lambda text: [l for l in (after_marker(text) or []) if l.startswith("$")]
    want, got = keep(gdb.stdout), keep(out.stdout)
    h.check(len(want) == len(LOCAL_EXPRESSIONS) - 1, "gdb printed %d values:\n%s" % (len(want), gdb.stdout[-2000:]))
    h.check(want == got, "\n".join("%-16s gdb:  %s\n%-16s snag: %s" % (c, g, "", s)
                                   for c, g, s in zip(LOCAL_EXPRESSIONS, want, got) if g != s)
            + "\n(gdb %d values, snag %d)\n%s" % (len(want), len(got), out.stderr[-1000:]))
    # No such local: gdb's error, and the live process gives what its core gives.
    h.check('No symbol "depth" in current context.' in out.stderr, out.stderr)
    h.check(keep(live.stdout) == got, "live:\n%s\ncore:\n%s" % ("\n".join(keep(live.stdout)), "\n".join(got)))


@h.case("exit status: 1 when a command failed, later commands still run")
def test_exit_status():
    out = h.snag("exec", core(), "-ex", "p nosuch_symbol_xyz", "-ex", "p 42")
    h.check(out.returncode == 1, "exit %d, expected 1" % out.returncode)
    h.check("$1 = 42" in out.stdout, "second command did not run: %r" % out.stdout)
    h.check("nosuch_symbol_xyz" in out.stderr, "error not reported: %r" % out.stderr)
    ok = h.snag("exec", core(), "-ex", "p 1")
    h.check(ok.returncode == 0 and ok.stdout == "$1 = 1\n", "plain exec: %d %r" % (ok.returncode, ok.stdout))


if __name__ == "__main__":
    h.main()
