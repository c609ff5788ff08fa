"""asyncio tasks (docs/asyncio.md) against ground truth: each asyncio scenario writes every task
with its await chain, get_stack() and the await edges it built; `snag tasks --json` must report
the same tasks, frames (function, file, line), states, kinds and edges, live, on gcore cores and
on `snag dump` cores, under every Python 3.8–3.13 on the machine and Debian sid's python3.14 and
python3.15 in a chroot (scripts/make-rootfs sid), with and without their -dbg files. `py-bt --tasks`
draws the tree. On 3.14+ `python -m asyncio ps`'s own reader is a second oracle, live."""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SCENARIOS = ["py_asyncio_tree.py", "py_asyncio_cycle.py", "py_asyncio_blocked.py", "py_asyncio_many.py"]


# Debian's own builds of 3.14 and 3.15, run in a sid chroot (snag runs outside it).
CHROOT_PYTHONS = ("sid", ["python3.14", "python3.15"])


def pythons():
    found = h.interpreters(lo=(3, 8), hi=(3, 13))
    if not found:
        h.skip("no CPython 3.8–3.13 on this machine")
    return found


def chroot_pythons():
    found = h.chroot_interpreters(*CHROOT_PYTHONS)
    if not found:
        h.skip("no %s chroot with %s: %s" % (CHROOT_PYTHONS[0], ", ".join(CHROOT_PYTHONS[1]),
                                              h.rootfs_problem(CHROOT_PYTHONS[0])))
    return found


def core_args(interp):
    """--sysroot ROOT adds the chroot's /usr/lib/debug (the -dbg files) for its cores."""
    return ["--sysroot", interp.root] if interp.root and not interp.hide_debug else []


# CPython's own reader of the tasks (asyncio.tools, 3.14+): (task id, name, coroutine stack as
# "inner -> outer" qualnames, awaiter id) for each await edge, from outside the process.
ORACLE = """import json, sys
from asyncio import tools
rows = tools.build_task_table(tools._get_awaited_by_tasks(int(sys.argv[1])))
print(json.dumps([[int(r[1], 16), r[2], r[3], int(r[6], 16)] for r in rows]))
"""


def cpython_oracle(interp, pid):
    """Runs the chroot's interpreter from outside (its loader and libraries), so that it reads
    /proc/PID/maps with the paths snag sees."""
    root = interp.root
    libs = os.path.join(root, "usr/lib/x86_64-linux-gnu")
    cmd = [os.path.join(libs, "ld-linux-x86-64.so.2"), "--library-path", libs, root + interp.path,
           "-c", ORACLE, str(pid)]
    r = h.run(cmd, timeout=120, env=dict(os.environ, PYTHONHOME=os.path.join(root, "usr")))
    if r.returncode != 0:
        raise h.Failure("python -m asyncio's reader failed on %d: %s" % (pid, r.stderr.strip()[-1000:]))
    return json.loads(r.stdout)


def compare_oracle(rows, doc, what):
    """Same tasks, same await edges, same coroutine stacks as CPython's reader."""
    tasks = dict((t["address"], t) for t in reported_tasks(doc))
    want_ids = set(r[0] for r in rows)
    h.check(want_ids == set(tasks), "%s: CPython's reader sees %d tasks, snag %d" % (what, len(want_ids), len(tasks)))
    want_edges = set((r[0], r[3]) for r in rows if r[3])
    got_edges = set((a, b) for a, t in tasks.items() for b in t["awaited_by"])
    h.check(want_edges == got_edges, "%s: awaited-by edges differ: CPython only %s, snag only %s"
            % (what, sorted(want_edges - got_edges)[:5], sorted(got_edges - want_edges)[:5]))
    problems = []
    for task_id, name, stack, _ in rows:
        t = tasks[task_id]
        mine = " -> ".join(f["function"] for f in t["frames"])
        if t["name"] != name or (t["kind"] != "running" and mine != stack):
            problems.append("%s: snag %r %r, CPython %r %r" % (hex(task_id), t["name"], mine, name, stack))
    h.check(not problems, "%s: %d task(s) differ from CPython's reader: %s" % (what, len(problems), "; ".join(problems[:4])))


def expected_name(frame, interp):
    if interp.version[:2] >= (3, 11) and frame.get("qualname"):
        return frame["qualname"]
    return frame["function"]


def reported_tasks(doc):
    return [t for loop in doc["asyncio"]["loops"] for t in loop["tasks"]]


def compare(truth, doc, interp, what):
    tasks = reported_tasks(doc)
    name_of = dict((t["address"], t["name"]) for t in tasks)
    got = dict((t["name"], t) for t in tasks)
    want = dict((t["name"], t) for t in truth["tasks"])
    h.check(sorted(got) == sorted(want) and len(tasks) == len(want),
            "%s: tasks %s, truth %s" % (what, sorted(got)[:12], sorted(want)[:12]))
    problems = []
    for name, w in sorted(want.items()):
        g = got[name]
        frames = [(f["function"], f["file"], f["line"]) for f in g["frames"]]
        expected = [(expected_name(f, interp), f["file"], f["line"]) for f in w["frames"]]
        if frames != expected:
            problems.append("%s frames: snag %s, truth %s" % (name, frames, expected))
        # get_stack() is the task's own coroutine frame: the outermost of the chain.
        if w["kind"] != "running" and w["get_stack"] and frames and \
                frames[-1][1:] != (w["get_stack"][-1]["file"], w["get_stack"][-1]["line"]):
            problems.append("%s: outermost frame %s, get_stack %s" % (name, frames[-1], w["get_stack"][-1]))
        for key in ("awaits", "awaited_by"):
            names = sorted(name_of.get(a, hex(a)) for a in g[key])
            if names != w[key]:
                problems.append("%s %s: snag %s, truth %s" % (name, key, names[:6], w[key][:6]))
        if g["kind"] != w["kind"]:
            problems.append("%s kind: snag %s (%s), truth %s" % (name, g["kind"], g["awaiting"], w["kind"]))
        if g["state"] != w["state"]:
            problems.append("%s state: snag %s, truth %s" % (name, g["state"], w["state"]))
    h.check(not problems, "%s: %d problem(s): %s" % (what, len(problems), "; ".join(problems[:5])))
    return doc


def check_tree(text, truth, what):
    """py-bt --tasks: every task appears, each awaited task indented deeper than its awaiter."""
    depth = {}
    for line in text.splitlines():
        if "(T) " in line:
            name = line.split("(T) ", 1)[1].split("  [", 1)[0]
            depth.setdefault(name, len(line.split("(T) ", 1)[0]))
    for t in truth["tasks"]:
        h.check(t["name"] in depth, "%s: %s missing from the tree:\n%s" % (what, t["name"], text[-3000:]))
        for child in t["awaits"]:
            if child in truth.get("cycle", []):
                continue
            h.check(depth[child] > depth[t["name"]], "%s: %s not under %s:\n%s" % (what, child, t["name"], text[-2000:]))


def run_scenario(scenario, interps):
    for interp in interps:
        label = "%s %s" % (interp.label, scenario)
        extra = core_args(interp)
        with h.py_scenario(interp, scenario, timeout=120) as s:
            doc = compare(s.truth, h.snag_json("tasks", s.pid, "--json"), interp, label + " live")
            if interp.root and interp.version[:2] >= (3, 14) and not interp.hide_debug:
                compare_oracle(cpython_oracle(interp, s.pid), doc, label + " live vs python -m asyncio ps")
            tree = h.snag("py-bt", s.pid, "--tasks", check=True).stdout
            check_tree(tree, s.truth, label + " py-bt --tasks")
            if "cycle" in s.truth:
                h.check("await cycle" in tree, "%s: cycle not marked:\n%s" % (label, tree[-2000:]))
            core = os.path.join(h.scratch(), "snag.core")
            h.snag("dump", s.pid, "-o", core, check=True)
            compare(s.truth, h.snag_json("tasks", core, "--json", *extra), interp, label + " snag dump")
            gcore = h.gcore(s.pid, os.path.join(h.scratch(), "gcore.core"))
            doc = compare(s.truth, h.snag_json("py-bt", gcore, "--tasks", "--json", *extra), interp, label + " gcore")
            h.check(doc["threads"], "%s: py-bt --tasks --json lost the threads" % label)
            for path in (core, gcore):
                os.unlink(path)


for _scenario in SCENARIOS:
    _name = _scenario[3:-3].replace("_", "-")
    h.case(_name)(lambda _s=_scenario: run_scenario(_s, pythons()))
    h.case(_name + "-sid")(lambda _s=_scenario: run_scenario(_s, chroot_pythons()))


def cpu_seconds(args):
    """CPU time (user + system) and wall time of one snag run: the CPU time does not depend on
    how busy the machine is."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = h.snag(*args, check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


# asyncio falls back to its pure-Python Task and Future when the C module cannot be imported.
NO_C_ASYNCIO = "import sys\nsys.modules['_asyncio'] = None\n"


def without_c_module(interp):
    """Environment whose sitecustomize blocks _asyncio (a path inside the chroot for chroots)."""
    d = h.scratch(interp.root)
    with open(os.path.join(d, "sitecustomize.py"), "w") as f:
        f.write(NO_C_ASYNCIO)
    return {"PYTHONPATH": d[len(interp.root):] if interp.root else d}


@h.case("pure-python-tasks")
def pure_python_tasks():
    """asyncio.tasks._PyTask (the C module blocked): same tasks, frames and edges as the truth,
    live and on a snag dump core, under every Python 3.8–3.15 here."""
    interps = pythons() + [i for i in h.chroot_interpreters(*CHROOT_PYTHONS) if not i.hide_debug]
    for interp in interps:
        for scenario in ("py_asyncio_tree.py", "py_asyncio_cycle.py", "py_asyncio_blocked.py"):
            label = "%s %s without _asyncio" % (interp.label, scenario)
            with h.py_scenario(interp, scenario, timeout=120, env=without_c_module(interp)) as s:
                doc = compare(s.truth, h.snag_json("tasks", s.pid, "--json"), interp, label + " live")
                types = set(t["type"] for t in reported_tasks(doc))
                h.check(types == {"Task"}, "%s: task types %s, not the Python Task" % (label, types))
                core = os.path.join(h.scratch(), "snag.core")
                h.snag("dump", s.pid, "-o", core, check=True)
                compare(s.truth, h.snag_json("tasks", core, "--json", *core_args(interp)), interp, label + " snag dump")
                os.unlink(core)


@h.case("many-tasks-speed")
def many_tasks_speed():
    """--tasks on the 10,000-task core: the goal is under 0.5 s of CPU."""
    interp = [i for i in pythons() if i.version[:2] == (3, 12)] or pythons()[-1:]
    with h.py_scenario(interp[0], "py_asyncio_many.py", timeout=120) as s:
        core = os.path.join(h.scratch(), "many.core")
        h.snag("dump", s.pid, "-o", core, check=True)
    runs = [cpu_seconds(("py-bt", core, "--tasks")) for _ in range(3)]
    r = runs[-1][0]
    h.check(r.stdout.count("(T) idle-") == 10000, "tree shows %d idle tasks" % r.stdout.count("(T) idle-"))
    cpu, wall = min(x[1] for x in runs), min(x[2] for x in runs)
    print("py-bt --tasks on the 10,000-task core: %.3f s CPU, %.3f s wall (best of 3, load %.1f)"
          % (cpu, wall, os.getloadavg()[0]), flush=True)
    h.check(cpu < 0.5, "py-bt --tasks used %.2f s of CPU on the 10,000-task core" % cpu)


@h.case("many-tasks-stop")
def many_tasks_stop():
    """snag tasks keeps the 10,000-task process stopped only while it copies the pages the walk
    needs (goal 30 ms; it was 270–530 ms when the walk ran stopped): best of 3 under 150 ms."""
    interp = [i for i in pythons() if i.version[:2] == (3, 12)] or pythons()[-1:]
    with h.py_scenario(interp[0], "py_asyncio_many.py", timeout=120) as s:
        docs = [h.snag_json("tasks", s.pid, "--json") for _ in range(3)]
        trees = [h.snag_json("py-bt", s.pid, "--tasks", "--json") for _ in range(3)]
    for doc in trees:
        h.check(doc["asyncio"]["task_count"] == 10001 and doc["threads"] and doc["threads"][0]["frames"],
                "py-bt --tasks lost tasks or frames: %d tasks" % doc["asyncio"]["task_count"])
    best_tree = min(int(d["target"]["stopped_ms"]) for d in trees)
    h.check(best_tree < 200, "py-bt --tasks kept the process stopped %d ms at best" % best_tree)
    for doc in docs:
        h.check(doc["asyncio"]["task_count"] == 10001, "snag saw %d tasks" % doc["asyncio"]["task_count"])
        h.check(int(doc["target"]["stops"]) >= 1, "no stop recorded: %s" % doc["target"])
    best = min(int(d["target"]["stopped_ms"]) for d in docs)
    print("snag tasks on 10,001 tasks: stopped %s ms; py-bt --tasks %s ms (load %.1f)"
          % ([d["target"]["stopped_ms"] for d in docs], [d["target"]["stopped_ms"] for d in trees],
             os.getloadavg()[0]), flush=True)
    h.check(best < 150, "snag tasks kept the process stopped %d ms at best" % best)


@h.case("task-leak-baseline")
def task_leak_baseline():
    """analyze --baseline OLD: task-leak compares the forgotten tasks of a core with an earlier dump
    of the service. 30 then 70 tasks of one coroutine: below min_tasks (100) alone, a leak of 40
    against the 30; the other way round (fewer tasks) nothing; a bad baseline is exit 2."""
    interp = [i for i in pythons() if i.version[:2] == (3, 12)] or pythons()[-1:]
    cores = {}
    for n in (30, 70):
        env = {"SNAG_TASKS": str(n), "SNAG_DETACHED": "1"}
        with h.py_scenario(interp[0], "py_asyncio_many.py", env=env, timeout=120) as s:
            cores[n] = os.path.join(h.scratch(), "tasks%d.core" % n)
            h.snag("dump", s.pid, "-o", cores[n], check=True)

    def leaks(*args):
        r = h.snag("analyze", cores[70] if args[0] == "new" else cores[30], "--select", "task-leak",
                   "--format", "json", *args[1:])
        h.check(r.returncode in (0, 1), "analyze exited %d: %s" % (r.returncode, r.stderr[-800:]))
        doc = json.loads(r.stdout)
        return doc, [f for f in doc["findings"] if f["rule"] == "task-leak"]

    doc, found = leaks("new")
    h.check(not found, "70 tasks alone are under min_tasks: %s" % found)
    doc, found = leaks("new", "--baseline", cores[30])
    h.check(len(found) == 1 and found[0]["evidence"]["count"] == 70 and found[0]["evidence"]["baseline_count"] == 30,
            "70 against a baseline of 30: %s" % found)
    h.check("(30 in the baseline dump %s)" % cores[30] in found[0]["message"], found[0]["message"])
    h.check(found[0]["frames"][0]["function"] == "idle_connection", "frame %s" % found[0]["frames"])
    h.check(doc["target"]["baseline"] == cores[30], "target %s" % doc["target"])
    doc, found = leaks("old", "--baseline", cores[70])
    h.check(not found, "30 against a baseline of 70 is no growth: %s" % found)
    r = h.snag("analyze", cores[70], "--baseline", os.path.join(h.scratch(), "missing.core"))
    h.check(r.returncode == 2 and r.stderr.count("\n") == 1 and "--baseline" in r.stderr,
            "missing baseline: exit %d, %r" % (r.returncode, r.stderr))


@h.case("free-threaded")
def free_threaded():
    """Free-threaded builds are not read yet: snag tasks says so, lists no task, exits 0."""
    found = h.free_threaded_interpreters()
    if not found:
        h.skip("no free-threaded CPython in %s (make python-ft builds one)" % h.CACHE)
    with h.py_scenario(found[0], "py_asyncio_cycle.py", timeout=120) as s:
        r = h.snag("tasks", s.pid, check=True)
        h.check("not read on free-threaded builds" in r.stdout + r.stderr, r.stdout + r.stderr)
        doc = h.snag_json("tasks", s.pid, "--json")
        h.check(doc["asyncio"]["task_count"] == 0, "tasks listed on a free-threaded build")


@h.case("no-asyncio")
def no_asyncio():
    interp = pythons()[-1]
    with h.py_scenario(interp, "py_threads.py") as s:
        r = h.snag("tasks", s.pid, check=True)
        h.check("asyncio is not imported" in r.stdout, r.stdout)
    r = h.snag("tasks", "/nonexistent/core")
    h.check(r.returncode == 2 and r.stderr.strip(), "bad target: exit %d %s" % (r.returncode, r.stderr))


if __name__ == "__main__":
    h.main()
