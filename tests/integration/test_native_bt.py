"""Native stacks of examples/scenarios/native_threads: live, gcore core, snag dump core.

- `snag bt --json` live, on a gcore core and on a `snag dump` core: same threads (by TID), same
  function sequence per thread, each thread's scenario function present.
- Cross-check with gdb's `thread apply all bt` on the same core: no missing threads; each
  scenario function in both top-5s; snag's top 5 appear in gdb's order; from the scenario
  function outward, frames agree one for one (by normalized name or by pc).
- gdb and eu-stack read snag's dump: every TID listed, scenario functions found.
- Attach/detach 100 times: the scenario keeps running and its "tick N" output stays intact.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


TOP = 5


exe = h.native_threads_exe


def start():
    return h.start_scenario([exe()])


def normalize(name):
    """gdb and symbol tables spell glibc aliases differently: __GI___nanosleep, __nanosleep,
    nanosleep@GLIBC_2.2.5, ___pthread_mutex_lock, __libc_pause, __clone3."""
    name = name.split("@")[0]
    name = re.sub(r"^_+", "", name)
    name = re.sub(r"^GI_+", "", name)
    name = re.sub(r"^libc_", "", name)
    name = re.sub(r"64$", "", name)
    return name


def same_frame(a, b):
    if a.get("pc") is not None and b.get("pc") is not None and abs(a["pc"] - b["pc"]) <= 1:
        return True
    return normalize(a["function"] or "??") == normalize(b["function"] or "??")


def functions(thread):
    return [f.get("function") for f in thread["frames"]]


def by_tid(stacks):
    return dict((t["tid"], t) for t in stacks["threads"])


def expected_threads(truth):
    return dict((t["tid"], t) for t in truth["threads"])


def check_scenario_functions(label, stacks, truth):
    threads = by_tid(stacks)
    want = expected_threads(truth)
    h.check(sorted(threads) == sorted(want),
            "%s: threads %s, scenario has %s" % (label, sorted(threads), sorted(want)))
    for tid, t in want.items():
        names = functions(threads[tid])
        h.check(t["function"] in names[:TOP + 2],
                "%s: thread %d (%s) lacks %s near the top: %s"
                % (label, tid, t["name"], t["function"], names[:10]))
        for f in threads[tid]["frames"]:
            h.check(f.get("kind", "native") == "native" and isinstance(f.get("pc"), int),
                    "%s: thread %d frame without kind/pc: %s" % (label, tid, f))
    recurser = [t for t in want.values() if t["function"] == "recurse"][0]
    depth = functions(threads[recurser["tid"]]).count("recurse")
    h.check(depth == truth["recursion_depth"] + 1,
            "%s: %d recurse frames, expected %d" % (label, depth, truth["recursion_depth"] + 1))


def check_same_functions(label_a, a, label_b, b):
    ta, tb = by_tid(a), by_tid(b)
    h.check(sorted(ta) == sorted(tb), "%s threads %s != %s threads %s"
            % (label_a, sorted(ta), label_b, sorted(tb)))
    for tid in ta:
        fa, fb = functions(ta[tid]), functions(tb[tid])
        h.check(fa == fb, "thread %d: %s %s != %s %s" % (tid, label_a, fa, label_b, fb))


def in_order_within(needles, haystack):
    """Every needle matches a haystack frame, in order (extra haystack frames allowed)."""
    i = 0
    for n in needles:
        while i < len(haystack) and not same_frame(n, haystack[i]):
            i += 1
        if i == len(haystack):
            return False
        i += 1
    return True


def compare_with_gdb(label, stacks, gdb_threads, truth):
    mine, theirs = by_tid(stacks), dict((t["tid"], t) for t in gdb_threads)
    h.check(sorted(mine) == sorted(theirs),
            "%s: snag threads %s, gdb threads %s" % (label, sorted(mine), sorted(theirs)))
    for tid, t in expected_threads(truth).items():
        s, g = mine[tid]["frames"], theirs[tid]["frames"]
        where = "%s thread %d (%s)" % (label, tid, t["name"])
        s_names = [f["function"] for f in s]
        g_names = [f["function"] for f in g]
        h.check(t["function"] in s_names[:TOP] and t["function"] in g_names[:TOP],
                "%s: %s not in both top-%d: snag %s / gdb %s"
                % (where, t["function"], TOP, s_names[:TOP], g_names[:TOP]))
        # gdb may add inlined frames; snag's top frames must all be in gdb's, in order.
        h.check(in_order_within(s[:TOP], g[:TOP + 3]),
                "%s: snag top %s not within gdb %s" % (where, s_names[:TOP], g_names[:TOP + 3]))
        si, gi = s_names.index(t["function"]), g_names.index(t["function"])
        outward = min(TOP, len(s) - si, len(g) - gi)
        for k in range(outward):
            h.check(same_frame(s[si + k], g[gi + k]),
                    "%s: frame %d below %s: snag %s vs gdb %s"
                    % (where, k, t["function"], s[si + k], g[gi + k]))


def snag_dump(pid, path):
    if not h.has_subcommand("dump"):
        raise h.Failure("this snag has no dump subcommand")
    r = h.snag("dump", pid, "-o", path, timeout=300)
    h.check(r.returncode == 0, "snag dump exited %d: %s" % (r.returncode, r.stderr.strip()))
    h.check(os.path.getsize(path) > 0, "snag dump wrote an empty file")
    return path


def still_running(s):
    h.check(s.alive(), "scenario died after snag looked at it: %s" % s.output())
    states = {}
    for tid in h.tasks(s.pid):
        with open("/proc/%d/task/%d/stat" % (s.pid, tid)) as f:
            states[tid] = f.read().rsplit(")", 1)[1].split()[0]
    h.check(len(states) == len(s.truth["threads"]), "threads vanished: %s" % states)
    h.check(all(st in "RSD" for st in states.values()), "threads left stopped: %s" % states)


@h.case("live bt --json: every thread in its scenario function, process keeps running")
def live():
    with start() as s:
        stacks = h.snag_json("bt", s.pid, "--json")
        check_scenario_functions("live", stacks, s.truth)
        still_running(s)


@h.case("live bt text: one header per thread, scenario functions printed")
def live_text():
    with start() as s:
        r = h.snag("bt", s.pid, check=True)
        for t in s.truth["threads"]:
            h.check(re.search(r"\b%d\b" % t["tid"], r.stdout), "TID %d missing" % t["tid"])
            h.check(t["function"] in r.stdout, "%s missing from text output" % t["function"])
        still_running(s)


@h.case("live, gcore core and snag dump core give the same functions for every thread")
def live_vs_cores():
    with start() as s:
        d = h.scratch()
        live_stacks = h.snag_json("bt", s.pid, "--json")
        gcore = h.gcore(s.pid, os.path.join(d, "gcore.core"))
        core_stacks = h.snag_json("bt", gcore, "--exe", exe(), "--json")
        check_scenario_functions("gcore", core_stacks, s.truth)
        check_same_functions("live", live_stacks, "gcore", core_stacks)
        dump = snag_dump(s.pid, os.path.join(d, "snag.core"))
        dump_stacks = h.snag_json("bt", dump, "--json")
        check_scenario_functions("dump", dump_stacks, s.truth)
        check_same_functions("live", live_stacks, "dump", dump_stacks)
        still_running(s)


@h.case("snag bt on a gcore core matches gdb's thread apply all bt (top 5)")
def gdb_cross_gcore():
    with start() as s:
        core = h.gcore(s.pid, os.path.join(h.scratch(), "gcore.core"))
        s.stop()
        stacks = h.snag_json("bt", core, "--exe", exe(), "--json")
        compare_with_gdb("gcore", stacks, h.gdb_bt(core, exe()), s.truth)


@h.case("snag bt on a snag dump core matches gdb's thread apply all bt (top 5)")
def gdb_cross_dump():
    with start() as s:
        core = snag_dump(s.pid, os.path.join(h.scratch(), "snag.core"))
        s.stop()
        stacks = h.snag_json("bt", core, "--json")
        compare_with_gdb("dump", stacks, h.gdb_bt(core, exe()), s.truth)


@h.case("gdb reads snag's dump: every thread, scenario functions")
def gdb_reads_dump():
    with start() as s:
        core = snag_dump(s.pid, os.path.join(h.scratch(), "snag.core"))
        s.stop()
        threads = dict((t["tid"], t) for t in h.gdb_bt(core, exe()))
        for t in s.truth["threads"]:
            h.check(t["tid"] in threads, "gdb lacks thread %d: %s" % (t["tid"], sorted(threads)))
            names = [f["function"] for f in threads[t["tid"]]["frames"]]
            h.check(t["function"] in names, "gdb: thread %d lacks %s: %s"
                    % (t["tid"], t["function"], names))


@h.case("eu-stack --core reads snag's dump: every TID, scenario functions")
def eu_stack_reads_dump():
    with start() as s:
        core = snag_dump(s.pid, os.path.join(h.scratch(), "snag.core"))
        s.stop()
        r = h.run(["eu-stack", "--core", core, "--executable", exe()], timeout=300)
        tids, current, seen = set(), None, {}
        for line in r.stdout.splitlines():
            m = re.match(r"^TID (\d+):", line)
            if m:
                current = int(m.group(1))
                tids.add(current)
                seen[current] = []
                continue
            m = re.match(r"^#\d+\s+0x[0-9a-f]+\s+(\S+)", line)
            if m and current is not None:
                seen[current].append(m.group(1))
        want = set(t["tid"] for t in s.truth["threads"])
        h.check(tids == want, "eu-stack TIDs %s, scenario %s (stderr: %s)"
                % (sorted(tids), sorted(want), r.stderr[-500:]))
        for t in s.truth["threads"]:
            h.check(t["function"] in seen[t["tid"]], "eu-stack: thread %d lacks %s: %s"
                    % (t["tid"], t["function"], seen[t["tid"]]))


@h.case("attach and detach 100 times: the process runs on, its output intact")
def attach_detach_100():
    with h.start_scenario([exe()], env={"SNAG_TICKS": "1"}) as s:
        for i in range(100):
            r = h.snag("bt", s.pid, "--json")
            h.check(r.returncode == 0, "attach %d: snag exited %d: %s"
                    % (i, r.returncode, r.stderr.strip()))
        still_running(s)
        with open(os.path.join(s.dir, "stdout")) as f:
            before = len(f.read().splitlines())
        h.check(h._wait_until(lambda: len(open(os.path.join(s.dir, "stdout")).read()
                                          .splitlines()) > before + 5, 10),
                "the ticker stopped printing after the attaches")
        s.stop()
        with open(os.path.join(s.dir, "stdout")) as f:
            lines = f.read().splitlines()
        if lines and not lines[-1].startswith("tick "):
            lines.pop()  # killed mid-line
        for n, line in enumerate(lines[:-1]):
            h.check(line == "tick %d" % n, "output line %d is %r, expected 'tick %d'"
                    % (n, line, n))


@h.case("debug cache: a later run maps the inflated debug files an earlier one kept")
def debug_cache():
    """SNAG_CACHE_DIR keeps the inflated copies of compressed -dbg files (libc6-dbg's): the second
    run reads them and prints the same stacks; an entry cut short is rebuilt, not trusted;
    SNAG_CACHE_DIR=off writes nothing."""
    with start() as s:
        core = snag_dump(s.pid, os.path.join(h.scratch(), "cache.core"))
    cache = os.path.join(h.scratch(), "cache")
    entries = os.path.join(cache, "inflated")

    def bt(where, **env):
        r = h.run([h.SNAG, "bt", core, "--json"], env=dict(os.environ, SNAG_CACHE_DIR=where, **env))
        h.check(r.returncode == 0, "snag bt exited %d: %s" % (r.returncode, r.stderr[-800:]))
        return r.stdout

    first = bt(cache)
    kept = sorted(os.listdir(entries)) if os.path.isdir(entries) else []
    if not kept:
        h.skip("no compressed debug file among the core's modules (install libc6-dbg)")
    sizes = {n: os.path.getsize(os.path.join(entries, n)) for n in kept}
    h.check(bt(cache) == first, "the cached run printed other stacks")
    for n in kept:
        with open(os.path.join(entries, n), "r+b") as f:
            f.truncate(sizes[n] // 2)
    h.check(bt(cache) == first, "a run over truncated cache entries printed other stacks")
    h.check({n: os.path.getsize(os.path.join(entries, n)) for n in kept} == sizes, "truncated entries not rebuilt")
    h.check(sorted(os.listdir(entries)) == kept, "entries added: %s" % os.listdir(entries))
    home = os.path.join(h.scratch(), "home")
    os.makedirs(home)
    h.check(bt("off", HOME=home, XDG_CACHE_HOME=home) == first and os.listdir(home) == [], "SNAG_CACHE_DIR=off wrote %s"
            % os.listdir(home))


if __name__ == "__main__":
    h.main()
