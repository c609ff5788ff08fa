"""`x/i` and `disassemble` against gdb's, instruction for instruction (issue 13).

The same functions of the native_threads scenario's core (its own main, glibc's malloc,
pthread_mutex_lock and __libc_start_main, which calls through PLT stubs) disassembled by gdb
and by snag: every address and every instruction's text must be the same, symbol suffixes
included (`call 0x1030 <getenv@plt>`, `# 0x4010 <stderr>`), but for symbol versions, which snag
leaves out. Live: `x/4i $pc` of the main thread, with its `=> ` marker.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FUNCTIONS = ("main", "malloc", "pthread_mutex_lock", "__libc_start_main")


def normalized(text):
    """Instruction lines, blanks collapsed and `@GLIBC_2.2.5` versions dropped from symbols."""
    lines = []
    for line in text.splitlines():
        if not re.match(r"^(=>)?\s+0x[0-9a-f]+", line):
            continue
        line = re.sub(r"@(GLIBC|GCC)[A-Z_0-9.]*>", ">", line)
        lines.append(" ".join(line.split()))
    return lines


def gdb_lines(target, exe, commands):
    cmd = ["gdb", "-batch", "-nx", "-ex", "set pagination off"]
    for c in commands:
        cmd += ["-ex", c]
    cmd += ["-p", str(target)] if isinstance(target, int) else ["-c", target, exe]
    return normalized(h.run(cmd, timeout=300).stdout)


def snag_lines(target, commands):
    args = ["exec", str(target)]
    for c in commands:
        args += ["-ex", c]
    r = h.snag(*args, timeout=120)
    h.check(r.returncode == 0, "snag exec %s: exit %d %s" % (commands, r.returncode, r.stderr[-1000:]))
    return normalized(r.stdout)


def same(gdb, snag, what):
    h.check(gdb, "gdb printed no instructions for %s" % what)
    diffs = [(g, s) for g, s in zip(gdb, snag) if g != s]
    h.check(len(gdb) == len(snag) and not diffs, "%s: %d gdb lines, %d snag lines, first differences:\n%s"
            % (what, len(gdb), len(snag), "\n".join("gdb:  %s\nsnag: %s" % d for d in diffs[:8])))


@h.case("disassemble-matches-gdb-core")
def test_core():
    exe = h.native_threads_exe()
    core = h.native_threads_core(exe, "exec")
    total = 0
    for f in FUNCTIONS:
        gdb = gdb_lines(core, exe, ["disassemble " + f])
        same(gdb, snag_lines(core, ["disassemble " + f]), "disassemble " + f)
        total += len(gdb)
    h.check(total > 300, "only %d instructions compared" % total)
    plt = [l for l in gdb_lines(core, exe, ["disassemble main"]) if "@plt>" in l]
    h.check(plt, "main calls no PLT stub in gdb's listing: the comparison misses the @plt names")
    raw = snag_lines(core, ["disassemble /r main"])
    h.check(raw and re.search(r"<\+0>: ([0-9a-f]{2} )+", raw[0]), "disassemble /r: %s" % raw[:2])


@h.case("x-i-pc-live")
def test_live():
    exe = h.native_threads_exe()
    with h.start_scenario([exe]) as sc:
        mine = snag_lines(sc.pid, ["x/4i $pc"])  # first: gdb's attach would move the thread
        gdb = gdb_lines(sc.pid, exe, ["x/4i $pc"])
        h.check(mine and mine[0].startswith("=> "), "no => marker at $pc: %s" % mine)
        same(gdb, mine, "x/4i $pc")


if __name__ == "__main__":
    h.main()
