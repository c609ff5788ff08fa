"""CPython's own gdb tests (Lib/test/test_gdb) run against snag: the same program, stopped the
same way, examined with the same commands by gdb (with python3.11-dbg's libpython.py, the
oracle) and by `snag exec`, on one core.

The program is test_gdb's sample (foo -> bar -> baz -> id(42)) run by Debian's
/usr/bin/python3.11 and stopped at `break builtin_id`; gdb writes the core there (gcore).
Compared, command sequence by command sequence, as test_gdb issues them after the breakpoint:
- py-bt: every line, the built-in call first (`<built-in method id of module object at remote 0x…>`)
- py-up: the first py-up from the C frame selects baz, the caller of the builtin (gdb 3.11
  prints every frame of that eval-loop call after it; its first line is the selected one)
- py-up + py-print: a local (args), a global (__name__), a builtin (len)
- py-up + py-locals, py-up + py-list
- py-down from the C frame (nothing newer), py-up + py-down (the built-in call)
- print of a PyObject * as the libpython pretty-printer shows it (func, v)
And, where gdb's optimized 3.11 cannot move between frames of one eval-loop call (test_gdb skips
those cases on optimized builds), snag against test_gdb's own expected output: py-up twice
selects bar and py-print reads its locals.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PYTHON = "/usr/bin/python3.11"
LIBPYTHON = "/usr/share/gdb/auto-load/usr/bin/python3.11-gdb.py"
MARKER = "@@SNAG@@"

# Lib/test/test_gdb/gdb_sample.py
SAMPLE = """# Sample script for use by test_gdb

def foo(a, b, c):
    bar(a=a, b=b, c=c)

def bar(a, b, c):
    baz(a, b, c)

def baz(*args):
    id(42)

foo(1, 2, 3)
"""

_core = []


def core():
    """One core of the sample stopped at builtin_id, written by gdb (shared by the cases)."""
    if _core:
        return _core[0]
    if not shutil.which("gdb"):
        h.skip("gdb is not installed")
    if not os.path.exists(PYTHON) or not os.path.exists(LIBPYTHON):
        h.skip("needs Debian's python3.11 and python3.11-dbg (apt-get install python3.11-dbg)")
    d = h.scratch()
    sample = os.path.join(d, "gdb_sample.py")
    with open(sample, "w") as f:
        f.write(SAMPLE)
    path = os.path.join(d, "sample.core")
    r = subprocess.run(["gdb", "-nx", "-batch", "-iex", "set debuginfod enabled off", "-ex", "break builtin_id",
                        "-ex", "run", "-ex", "gcore " + path, "-ex", "kill", "--args", PYTHON, sample],
                       capture_output=True, text=True, timeout=180)
    if not os.path.exists(path):
        h.skip("gdb could not stop the sample at builtin_id: %s" % (r.stdout + r.stderr)[-800:])
    _core.append(path)
    return path


def after_marker(text):
    return text.split(MARKER + "\n", 1)[1] if MARKER + "\n" in text else None


def gdb(commands):
    """Output of the last command of the sequence, under gdb with libpython."""
    args = ["gdb", "-nx", "-batch", "-iex", "set debuginfod enabled off", "-ex", "source " + LIBPYTHON,
            "-c", core(), PYTHON]
    for c in commands[:-1]:
        args += ["-ex", c]
    args += ["-ex", "echo %s\\n" % MARKER, "-ex", commands[-1]]
    r = subprocess.run(args, capture_output=True, text=True, timeout=180)
    out = after_marker(r.stdout)
    h.check(out is not None, "gdb did not run %s: %s" % (commands, r.stderr[-800:]))
    return out + "".join(l + "\n" for l in r.stderr.splitlines() if l.startswith("Unable"))


def snag(commands):
    """Output of the last command (stdout, then its error), under snag exec."""
    args = ["exec", core()]
    for c in commands[:-1]:
        args += ["-ex", c]
    args += ["-ex", "echo %s\\n" % MARKER, "-ex", commands[-1]]
    r = h.snag(*args)
    out = after_marker(r.stdout)
    h.check(out is not None, "snag did not run %s (exit %d): %s" % (commands, r.returncode, r.stderr[-800:]))
    errors = [l for l in r.stderr.splitlines() if not l.startswith("warning:")]
    return out + "".join(l + "\n" for l in errors)


def same(commands, gdb_part=lambda text: text, normalize=lambda text: text):
    want, got = normalize(gdb_part(gdb(commands))), normalize(snag(commands))
    h.check(want == got, "%s:\n--- gdb\n%s--- snag\n%s" % (" ; ".join(commands), want, got))
    return got


def first_frame(text):
    """gdb 3.11's py-up prints every frame of the eval-loop call it selects: the first is it."""
    lines = text.splitlines(True)
    return "".join(lines[:2]) if len(lines) >= 2 and lines[1].startswith("    ") else "".join(lines[:1])


def first_locals(text):
    """gdb 3.11's py-locals prints the locals of every frame of that eval-loop call: the first block."""
    blocks = re.split(r"(?m)^(?=Locals for )", text)
    return next((b for b in blocks if b), "")


@h.case("py-bt: the built-in call and every frame, line for line")
def test_py_bt():
    got = same(["py-bt"])
    h.check(re.search(r"^  <built-in method id of module object at remote 0x[0-9a-f]+>\n  File .*, line 10, in baz\n",
                      got, re.M), "py-bt lacks the built-in call before baz:\n%s" % got)


@h.case("py-up from the C frame selects the builtin's caller (baz)")
def test_py_up():
    got = same(["py-up"], first_frame)
    h.check(re.match(r"#\d+ Frame 0x[0-9a-f]+, for file .*gdb_sample\.py, line 10, in baz \(args=\(1, 2, 3\)\)\n",
                     got), "py-up selected:\n%s" % got)


@h.case("py-print: a local, a global, a builtin")
def test_py_print():
    h.check(same(["py-up", "py-print args"]) == "local 'args' = (1, 2, 3)\n", "py-print args")
    h.check(same(["py-up", "py-print __name__"]) == "global '__name__' = '__main__'\n", "py-print __name__")
    got = same(["py-up", "py-print len"])
    h.check(re.match(r"builtin 'len' = <built-in method len of module object at remote 0x[0-9a-f]+>\n$", got), got)


@h.case("py-locals and py-list of the selected frame")
def test_py_locals_list():
    h.check(same(["py-up", "py-locals"], first_locals) == "Locals for baz\nargs = (1, 2, 3)\n", "py-locals")
    h.check(">10        id(42)" in same(["py-up", "py-list"]), "py-list marks line 10")


@h.case("py-down: nothing newer than the C frame; after py-up, the built-in call")
def test_py_down():
    h.check(same(["py-down"]) == "Unable to find a newer python frame\n", "py-down at the bottom")
    got = same(["py-up", "py-down"])
    h.check(re.match(r"#\d+ <built-in method id of module object at remote 0x[0-9a-f]+>\n$", got), got)


@h.case("print of a PyObject * as libpython's pretty-printer shows it")
def test_print_pyobject():
    got = same(["frame 1", "p func"])
    h.check(re.match(r"\$1 = <built-in method id of module object at remote 0x[0-9a-f]+>\n$", got), got)
    h.check(same(["frame 0", "p v"]) == "$1 = 42\n", "p v")


# Two threads contend for the GIL (one of them waits in take_gil at almost every instant) while
# a third runs a __del__ called by the cycle collector (gc_collect_main); it says ready from there.
GIL_GC = """import gc, os, threading, time

def spin():
    n = 0
    while True:
        n += 1

class Cycle:
    def __del__(self):
        open(os.environ["SNAG_READY"], "w").write("ready\\n")
        time.sleep(3600)

class Point:
    def __init__(self, x, label):
        self.x = x
        self.label = label

class Slotted:
    __slots__ = ("a",)

def collector():
    a = Cycle()
    a.me = a
    del a
    point = Point(1, "x")
    points = [point, Point(2.5, None)]
    by_name = {"p": Point(3, "z")}
    cls = Point
    slotted = Slotted()
    module = os
    gc.collect()

for i in range(2):
    threading.Thread(target=spin, daemon=True).start()
time.sleep(0.2)
threading.Thread(target=collector, daemon=True).start()
time.sleep(3600)
"""


_gil_gc_core = []


def gil_gc_core():
    """A core of GIL_GC, written by gcore once the collector runs __del__ (shared by the cases)."""
    if _gil_gc_core:
        return _gil_gc_core[0]
    core()  # the same skips
    script = os.path.join(h.scratch(), "gil_gc.py")
    with open(script, "w") as f:
        f.write(GIL_GC)
    with h.start_scenario([PYTHON, script]) as sc:
        _gil_gc_core.append(h.gcore(sc.pid, os.path.join(sc.dir, "gil_gc.core")))
    return _gil_gc_core[0]


def both(path, commands):
    """Output of the last command under gdb with libpython and under snag exec, on core path."""
    args = [a for c in commands[:-1] for a in ("-ex", c)] + ["-ex", "echo %s\\n" % MARKER, "-ex", commands[-1]]
    r = subprocess.run(["gdb", "-nx", "-batch", "-iex", "set debuginfod enabled off", "-ex", "source " + LIBPYTHON,
                        "-c", path, PYTHON] + args, capture_output=True, text=True, timeout=180)
    want = after_marker(r.stdout)
    h.check(want is not None, "gdb did not run %s: %s" % (commands, r.stderr[-800:]))
    out = h.snag("exec", path, *args)
    got = after_marker(out.stdout)
    h.check(got is not None, "snag did not run %s: %s" % (commands, out.stderr[-800:]))
    return want + "".join(l + "\n" for l in r.stderr.splitlines() if l.startswith("Unable")), \
        got + "".join(l + "\n" for l in out.stderr.splitlines() if l.startswith("Unable"))


@h.case("py-bt: libpython's 'Waiting for the GIL' and 'Garbage-collecting' lines, every thread")
def test_gil_and_gc_lines():
    want, got = both(gil_gc_core(), ["thread apply all py-bt"])
    # gdb 3.11's libpython names a function by co_name, snag by co_qualname (Cycle.__del__).
    got = re.sub(r"(?m)(, in )[\w.<>]+\.([\w<>]+)$", r"\1\2", got)
    h.check("Garbage-collecting" in want, "gdb's py-bt:\n%s" % want)
    h.check(want == got, "--- gdb\n%s--- snag\n%s" % (want, got))
    h.check(re.search(r"^  <built-in method sleep .*\n  File .*, in __del__\n.*\n  Garbage-collecting\n"
                      r"  <built-in method collect ", got, re.M), got)


@h.case("py-locals, py-bt-full and print of a PyObject *: instances, classes, functions as libpython shows them")
def test_libpython_reprs():
    # The collector's frame (four py-up from the sleep in __del__) holds instances with a __dict__,
    # a list and a dict of them, a class, an instance without a __dict__ (__slots__), a module.
    want, got = both(gil_gc_core(), ["thread 4"] + ["py-up"] * 4 + ["py-locals"])
    want = first_locals(want)
    h.check(want == got, "py-locals:\n--- gdb\n%s--- snag\n%s" % (want, got))
    for pattern in [r"^point = <Point\(x=1, label='x'\) at remote 0x[0-9a-f]+>$",
                    r"^points = \[<Point\(x=1, label='x'\) at remote 0x[0-9a-f]+>, <Point\(x=<float at remote 0x[0-9a-f]+>, "
                    r"label=None\) at remote 0x[0-9a-f]+>\]$",
                    r"^by_name = \{'p': <Point\(x=3, label='z'\) at remote 0x[0-9a-f]+>\}$",
                    r"^cls = <type at remote 0x[0-9a-f]+>$", r"^slotted = <Slotted at remote 0x[0-9a-f]+>$",
                    r"^module = <module at remote 0x[0-9a-f]+>$"]:
        h.check(re.search(pattern, got, re.M), "py-locals lacks %s:\n%s" % (pattern, got))
    # Every frame's summary; functions by co_name in gdb 3.11's libpython, by co_qualname in snag.
    want, got = both(gil_gc_core(), ["thread 4", "py-bt-full"])
    got = re.sub(r"(?m)(, in )[\w<>]+\.([\w<>.]+ \()", r"\1\2", got)
    h.check(want == got, "py-bt-full:\n--- gdb\n%s--- snag\n%s" % (want, got))
    # The PyObject * arguments of the C frames that run the finalizer (slot_tp_finalize's self).
    r = subprocess.run(["gdb", "-nx", "-batch", "-c", gil_gc_core(), PYTHON, "-ex", "thread 4", "-ex", "bt"],
                       capture_output=True, text=True, timeout=180)
    level = re.search(r"(?m)^#(\d+) .*slot_tp_finalize", r.stdout)
    h.check(level, "gdb's bt has no slot_tp_finalize:\n%s" % r.stdout[-2000:])
    for name in ("self", "func"):
        want, got = both(gil_gc_core(), ["thread 4", "frame %d" % (int(level.group(1)) - (name == "func")), "p " + name])
        h.check(want == got and re.match(r"\$1 = <(Cycle\(me=<\.\.\.>\)|function) at remote 0x", got),
                "p %s:\n--- gdb\n%s--- snag\n%s" % (name, want, got))


def stop_line(text):
    """The first line py-up/py-down printed, up to a frame's locals (their reprs are not compared here)."""
    first = text.splitlines()[0] if text else ""
    return re.sub(r"^(#\d+ Frame 0x[0-9a-f]+, for file \S+, line \d+), in .*", r"\1", first)


@h.case("py-up/py-down step through built-in calls and Garbage-collecting with gdb's frame numbers")
def test_up_down_numbers():
    # Thread 4 is the collector: sleep <- __del__ <- Garbage-collecting <- gc.collect <- collector.
    seen = []
    for ups, downs in [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (0, 1), (1, 1), (3, 1)]:
        commands = ["thread 4"] + ["py-up"] * ups + ["py-down"] * downs
        want, got = both(gil_gc_core(), commands)
        h.check(stop_line(want) == stop_line(got), "%s:\n--- gdb\n%s--- snag\n%s" % (" ; ".join(commands), want, got))
        seen.append(stop_line(got))
    h.check(re.match(r"#\d+ Garbage-collecting$", seen[1]) and re.match(r"#\d+ <built-in method collect ", seen[2]),
            "py-up twice, three times: %r" % seen)
    numbers = [int(l[1:].split()[0]) for l in seen[:5]]
    h.check(numbers == sorted(numbers) and len(set(numbers)) == 5, "py-up numbers: %r" % numbers)
    # py-frame N takes the number py-up printed.
    out = h.snag("exec", gil_gc_core(), "-ex", "thread 4", "-ex", "echo %s\\n" % MARKER, "-ex", "py-frame %d" % numbers[3])
    h.check(stop_line(after_marker(out.stdout)) == seen[3], "py-frame %d: %s" % (numbers[3], out.stdout + out.stderr))


@h.case("test_gdb's expectations where optimized gdb cannot follow: py-up twice, py-print")
def test_up_twice():
    # StackNavigationTests.test_pyup_command / PyPrintTests.test_print_after_up (skipped by
    # test_gdb on optimized builds: gdb cannot step between frames of one eval-loop call).
    got = snag(["py-up", "py-up"])
    h.check(re.match(r"#\d+ Frame 0x[0-9a-f]+, for file .*gdb_sample\.py, line 7, in bar \(a=1, b=2, c=3\)\n"
                     r"    baz\(a, b, c\)\n$", got), "py-up py-up:\n%s" % got)
    got = "".join(snag(["py-up", "py-up", "py-print " + n]) for n in "cba")
    h.check(got == "local 'c' = 3\nlocal 'b' = 2\nlocal 'a' = 1\n", got)
    h.check(snag(["py-up"] * 5).endswith("Unable to find an older python frame\n"), "py-up at the top")


if __name__ == "__main__":
    h.main()
