"""`snag bt --json` against gdb's `thread apply all bt`, frame for frame (issue 13).

Cores (gcore) and live processes of native_threads (C) and py_deadlock_rlock (Debian's
python3.11, threads blocked in RLock.acquire: glibc's tail calls and python's inlined code),
with the distribution's debug files (libc6-dbg, python3.11-dbg) and without them (gdb's
debug-file-directory and snag's SNAG_DEBUG_FILE_DIRECTORY pointed at an empty directory).
Function names, inline frames included, and file:line must be the same; no frame missing or
extra. `comparison-catches-a-dropped-frame` shows the comparison can fail.
"""
import copy
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_compare as bc  # noqa: E402
import harness as h  # noqa: E402

PYTHON = "/usr/bin/python3.11"


def debug_dirs(with_debug):
    """(gdb's debug-file-directory, snag's environment) for one of the two setups."""
    if with_debug:
        return "/usr/lib/debug", {}
    empty = h.scratch()
    return empty, {"SNAG_DEBUG_FILE_DIRECTORY": empty}


def need_debug_packages():
    missing = [p for p in ("libc6-dbg", "python3.11-dbg")
               if h.run(["dpkg-query", "-W", "-f=${Status}", p]).stdout.find("install ok installed") < 0]
    if missing:
        h.skip("%s not installed (scripts/install-deps test installs them)" % " ".join(missing))


def gdb_threads(target, exe, debug_dir):
    cmd = ["gdb", "-batch", "-nx", "-iex", "set debug-file-directory %s" % debug_dir,
           "-ex", "set pagination off", "-ex", "set backtrace past-main on", "-ex", "thread apply all bt"]
    cmd += ["-p", str(target)] if isinstance(target, int) else ["-c", target, exe]
    r = h.run(cmd, timeout=600)
    threads = bc.parse_gdb(r.stdout)
    h.check(threads, "gdb printed no threads: %s" % r.stderr[-2000:])
    return threads


def snag_threads(target, env):
    r = h.run([h.SNAG, "bt", str(target), "--json"], timeout=300, env=dict(os.environ, **env))
    h.check(r.returncode == 0, "snag bt exited %d: %s" % (r.returncode, r.stderr[-2000:]))
    stacks = json.loads(r.stdout)
    running = set(t["tid"] for t in stacks["threads"] if t.get("state") == "R")
    return bc.frames_of_snag(stacks), running


def compare(target, exe, with_debug):
    debug_dir, env = debug_dirs(with_debug)
    snag, running = snag_threads(target, env)  # first: gdb's attach would show in a live stack
    gdb = gdb_threads(target, exe, debug_dir)
    problems = bc.differences(gdb, snag, moving=running)
    h.check(not problems, "snag bt and gdb differ on %s (%s debug files):\n%s"
            % (target, "with" if with_debug else "without", "\n".join(problems)))
    return sum(len(f) for f in gdb.values())


def native_case(live, with_debug):
    exe = h.native_threads_exe()
    with h.start_scenario([exe]) as sc:
        target = sc.pid if live else h.gcore(sc.pid, os.path.join(h.scratch(), "native.core"))
        compare(target, exe, with_debug)


def python_case(live, with_debug):
    if not os.access(PYTHON, os.X_OK):
        h.skip("%s is not installed" % PYTHON)
    if with_debug:
        need_debug_packages()
    with h.py_scenario(PYTHON, "py_deadlock_rlock.py") as sc:
        target = sc.pid if live else h.gcore(sc.pid, os.path.join(h.scratch(), "rlock.core"))
        frames = compare(target, PYTHON, with_debug)
        h.check(frames > 20, "only %d frames compared" % frames)


for _live in (False, True):
    for _debug in (True, False):
        _suffix = "%s-%s-debug-files" % ("live" if _live else "core", "with" if _debug else "without")
        h.case("native-threads-" + _suffix)(lambda live=_live, debug=_debug: native_case(live, debug))
        h.case("python-rlock-" + _suffix)(lambda live=_live, debug=_debug: python_case(live, debug))


def split_args(text):
    """gdb's "a=1, s=0x1 \"x, y\"" into ["a=1", "s=0x1 \"x, y\""] (commas inside strings and brackets stay)."""
    out, depth, cur, quoted = [], 0, "", False
    for i, c in enumerate(text):
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        if not quoted:
            depth += c in "({<[" and 1 or (c in ")}>]" and -1 or 0)
            if c == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
                continue
        cur += c
    return out + ([cur.strip()] if cur.strip() else [])


def gdb_args(target, exe):
    """{tid: [[arg, ...] per frame]} from gdb's `thread apply all bt`, pretty-printers off."""
    r = h.run(["gdb", "-batch", "-nx", "-iex", "set auto-load python-scripts off", "-ex", "set pagination off",
               "-ex", "set print frame-arguments scalars", "-ex", "thread apply all bt", "-c", target, exe], timeout=600)
    out, tid = {}, None
    for line in r.stdout.splitlines():
        m = re.match(r"^Thread \d+ \(.*?LWP (\d+)\)", line)
        if m:
            tid = int(m.group(1))
            out[tid] = []
            continue
        m = re.match(r"^#\d+\s+(?:0x[0-9a-f]+ in )?\S+ \((.*)\)( at | from |$)", line)
        if m and tid is not None:
            out[tid].append(split_args(m.group(1)))
    return out


def by_name(items):
    """gdb's frame-line arguments as [(name, value, entry value or None)]: "x=x@entry=5" is
    (x, 5, 5); "x=6", "x@entry=5" is (x, 6, 5); "x=6" is (x, 6, None)."""
    out = []
    for item in items:
        name, value = item.split("=", 1)
        if name.endswith("@entry") and out and out[-1][0] == name[:-len("@entry")]:
            out[-1] = (out[-1][0], out[-1][1], value)
        elif value.startswith(name + "@entry="):
            value = value[len(name + "@entry="):]
            out.append((name, value, value))
        else:
            out.append((name, value, None))
    return out


def snag_items(args):
    """snag's JSON arguments in gdb's frame-line form (`print entry-values default`)."""
    out = []
    for a in args:
        entry = a.get("entry_value")
        if entry is not None and entry == a["value"]:
            out.append("%s=%s@entry=%s" % (a["name"], a["name"], entry))
        else:
            out.append("%s=%s" % (a["name"], a["value"]))
            if entry is not None:
                out.append("%s@entry=%s" % (a["name"], entry))
    return out


def args_case(exe, core):
    """Arguments frame by frame: same names, same values, same `x@entry` values (gdb's
    DW_OP_entry_value and call-site values). Where snag cannot tell a value gdb can, it says
    <optimized out> or leaves out x@entry; it never shows a value gdb does not."""
    gdb = gdb_args(core, exe)
    stacks = json.loads(h.snag("bt", core, "--json", check=True).stdout)
    same, gdb_only, entries, gdb_only_entries, problems = 0, 0, 0, 0, []
    for t in stacks["threads"]:
        for f, theirs in zip(t["frames"], gdb.get(t["tid"], [])):
            if f.get("args") is None:
                continue
            g_args, o_args = by_name(theirs), by_name(snag_items(f["args"]))
            if [a[0] for a in g_args] != [a[0] for a in o_args]:
                problems.append("%s: gdb %s, snag %s" % (f["function"], theirs, snag_items(f["args"])))
                continue
            for (name, gv, ge), (_, ov, oe) in zip(g_args, o_args):
                if gv == ov:
                    same += 1
                elif ov == "<optimized out>":
                    gdb_only += 1
                else:
                    problems.append("%s: gdb %s=%s, snag %s=%s" % (f["function"], name, gv, name, ov))
                if ge == oe:
                    entries += ge is not None
                elif oe is None:
                    gdb_only_entries += 1
                else:
                    problems.append("%s: gdb %s@entry=%s, snag %s@entry=%s" % (f["function"], name, ge, name, oe))
    h.check(not problems, "arguments differ from gdb's:\n" + "\n".join(problems[:20]))
    print("  %d values the same, %d known to gdb only; %d x@entry values the same, %d known to gdb only"
          % (same, gdb_only, entries, gdb_only_entries))
    h.check(same > 40 and same > 3 * gdb_only,
            "%d arguments the same, %d known to gdb only (entry values)" % (same, gdb_only))
    h.check(entries > 5 and entries > 3 * gdb_only_entries,
            "%d x@entry values the same, %d known to gdb only" % (entries, gdb_only_entries))


@h.case("arguments-native-threads-core")
def native_args():
    exe = h.native_threads_exe()
    with h.start_scenario([exe]) as sc:
        core = h.gcore(sc.pid, os.path.join(h.scratch(), "native-args.core"))
    args_case(exe, core)


@h.case("arguments-python-rlock-core")
def python_args():
    if not os.access(PYTHON, os.X_OK):
        h.skip("%s is not installed" % PYTHON)
    need_debug_packages()
    with h.py_scenario(PYTHON, "py_deadlock_rlock.py") as sc:
        core = h.gcore(sc.pid, os.path.join(h.scratch(), "rlock-args.core"))
    args_case(PYTHON, core)


@h.case("comparison-catches-a-dropped-frame")
def dropped_frame():
    gdb = bc.parse_gdb(
        "Thread 2 (Thread 0x7f (LWP 12)):\n"
        "#0  __futex_abstimed_wait_common64 (private=0) at ./nptl/futex-internal.c:57\n"
        "#1  __futex_abstimed_wait_common (futex_word=0x1) at ./nptl/futex-internal.c:87\n"
        "#2  0x00007f5f7b in __GI___futex_abstimed_wait_cancelable64 (x=1) at ./nptl/futex-internal.c:139\n"
        "#3  0x00007f0cff in do_futex_wait (sem=0x1) at ./nptl/sem_waitcommon.c:111\n"
        "#4  0x00000000005bf84e in ?? ()\n")
    h.check([f["function"] for f in gdb[12]] == [
        "__futex_abstimed_wait_common64", "__futex_abstimed_wait_common",
        "__GI___futex_abstimed_wait_cancelable64", "do_futex_wait", None], "parse: %s" % gdb)
    h.check(gdb[12][3]["line"] == 111 and gdb[12][3]["file"] == "sem_waitcommon.c", "parse: %s" % gdb)
    snag = copy.deepcopy(gdb)
    h.check(bc.differences(gdb, snag) == [], "identical stacks differ")
    del snag[12][2]
    h.check(bc.differences(gdb, snag), "a dropped frame went unseen")
    snag = copy.deepcopy(gdb)
    snag[12][3]["line"] = 112
    h.check(bc.differences(gdb, snag), "another line went unseen")
    h.check(bc.differences(gdb, snag, moving={12}), "a line below the innermost frame is not excused")
    snag = copy.deepcopy(gdb)
    snag[12].append({"function": "_start", "file": None, "line": None})
    h.check(bc.differences(gdb, snag), "an extra frame went unseen")


if __name__ == "__main__":
    h.main()
