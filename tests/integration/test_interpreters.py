"""Subinterpreters and garbage collection per thread (docs/python.md, Thread headers).

subinterpreters-*: examples/scenarios/py_subinterpreters.py on the pyenv 3.12 and 3.13 builds.
Every thread of every interpreter is found; the thread that entered the subinterpreter is one
thread whose Python frames are the subinterpreter's, then the main interpreter's, in call order,
each frame with its interpreter's id; live (py-bt, --no-stop, --native merged), on a gcore core
and on a `snag dump` core, against the threads' own records.
gc-collecting-*: examples/scenarios/py_gc_collecting.py on 3.6-3.13: only the thread whose
gc.collect() stopped in a __del__ is collecting garbage (py-bt text and JSON, the Lua API), live
and on a gcore core.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def expected(frame, interp):
    return (frame.get("qualname") or frame["function"]) if interp.version[:2] >= (3, 11) else frame["function"]


def py_frames(thread):
    return [f for f in thread["frames"] if f["kind"] == "python"]


def check_subinterpreters(doc, truth, interp, what):
    ids = truth["interpreters"]
    by_tid = {}
    for t in doc["threads"]:
        by_tid.setdefault(t["tid"], []).append(t)
    records = {}
    for r in truth["threads"]:
        records.setdefault(r["native_id"], []).append(r)
    h.check(len(records) == 3, "%s: the truth should list 3 OS threads: %s" % (what, sorted(records)))
    for tid, parts in records.items():
        shown = by_tid.get(tid, [])
        h.check(len(shown) == 1, "%s: thread %d shown %d times (%s)" % (what, tid, len(shown), parts[0]["name"]))
        t = shown[0]
        # Innermost interpreter first: the subinterpreter's frames, then the main one's.
        parts.sort(key=lambda r: r["interpreter"] != ids["sub"])
        want = [(expected(f, interp), f["file"], f["line"], r["interpreter"]) for r in parts for f in r["frames"]]
        got = [(f["function"], f["file"], f["line"], f.get("interpreter")) for f in py_frames(t)]
        h.check(got == want, "%s: thread %d (%s): snag %s, truth %s" % (what, tid, t["name"], got, want))
        py = t["python"]
        h.check(py["interpreter"] == parts[0]["interpreter"],
                "%s: thread %d runs interpreter %s, snag says %s" % (what, tid, parts[0]["interpreter"], py["interpreter"]))
        if len(parts) > 1:
            h.check(py.get("interpreters") == [r["interpreter"] for r in parts],
                    "%s: nested thread %d: interpreters %s" % (what, tid, py.get("interpreters")))
            h.check(t["name"] == "nester", "%s: the nested thread is named %r" % (what, t["name"]))
        else:
            h.check("interpreters" not in py, "%s: thread %d is not nested: %s" % (what, tid, py))
            h.check(t["name"] == parts[0]["name"], "%s: thread %d named %r, truth %r" % (what, tid, t["name"], parts[0]["name"]))


def register_subinterpreters(interp):
    @h.case("subinterpreters-%s" % interp.label)
    def subinterpreters():
        # The truth has a record per interpreter a thread runs: 4 for 3 OS threads.
        with h.py_scenario(interp, "py_subinterpreters.py", settle_tasks=False) as s:
            check_subinterpreters(h.snag_json("py-bt", s.pid, "--json"), s.truth, interp, "live")
            check_subinterpreters(h.snag_json("py-bt", s.pid, "--json", "--no-stop"), s.truth, interp, "--no-stop")
            merged = h.snag_json("py-bt", s.pid, "--json", "--native")
            check_subinterpreters(merged, s.truth, interp, "live --native")
            h.check(not [w for w in merged["warnings"] if "unmerged" in w], "not merged: %s" % merged["warnings"])
            text = h.snag("py-bt", s.pid, check=True).stdout
            nester = [r for r in s.truth["threads"] if r["name"] == "nester"][0]["native_id"]
            header = 'Thread %d "nester" (' % nester
            h.check(header in text and "interpreter %d entered from %d)" % (s.truth["interpreters"]["sub"], 0) in text,
                    "text header of the nested thread: %s" % text[:1500])
            h.check(text.count("-- entered from interpreter 0 --") == 1, "text: %s" % text[:1500])
            # The REPL's py-bt (Lua py:thread) shows the nested thread's frames of both interpreters.
            repl = h.snag("exec", s.pid, "-ex", "thread apply all py-bt", check=True).stdout
            part = repl[repl.index("(LWP %d)" % nester):]
            part = part[:part.find("\nThread ")] if "\nThread " in part else part
            order = [part.find(" in " + name + "\n") for name in ("park", "inside", "<module>", "nester")]
            h.check(-1 not in order and order == sorted(order), "REPL py-bt of the nested thread: %s" % part)
            core = h.gcore(s.pid, os.path.join(s.dir, "core"))
            dumped = os.path.join(s.dir, "snag.core")
            h.snag("dump", s.pid, "-o", dumped, check=True)
            s.stop()
            check_subinterpreters(h.snag_json("py-bt", core, "--json", "--native"), s.truth, interp, "gcore")
            check_subinterpreters(h.snag_json("py-bt", dumped, "--json"), s.truth, interp, "snag dump")


LUA_GC = """
for _, t in ipairs(target.python:threads()) do print(t.tid, t.gc and "gc" or "-") end
"""


def check_gc(doc, truth, interp, what):
    h.check(doc["python"]["gc_collecting"], "%s: no collection seen" % what)
    pairs = h.python_threads(truth, doc)
    for t, st in pairs:
        h.check(st is not None, "%s: thread %s missing" % (what, t["name"]))
        collector = t["ident"] == truth["collector"]
        h.check(st["python"]["gc"] == collector and ("collecting garbage" in st["python"]["status"]) == collector,
                "%s: thread %s: gc %s, status %r" % (what, t["name"], st["python"]["gc"], st["python"]["status"]))
        got = [(f["function"], f["line"]) for f in py_frames(st)]
        want = [(expected(f, interp), f["line"]) for f in t["frames"]]
        h.check(got == want, "%s: thread %s: snag %s, truth %s" % (what, t["name"], got, want))
    return pairs


def register_gc(interp):
    @h.case("gc-collecting-%s" % interp.label)
    def gc_collecting():
        with h.py_scenario(interp, "py_gc_collecting.py") as s:
            pairs = check_gc(h.snag_json("py-bt", s.pid, "--json"), s.truth, interp, "live")
            text = h.snag("py-bt", s.pid, check=True).stdout
            h.check(text.count("collecting garbage") == 1, "text: %s" % text[:1500])
            script = os.path.join(s.dir, "gc.lua")
            with open(script, "w") as f:
                f.write(LUA_GC)
            lua = h.snag("lua", script, s.pid, check=True).stdout.split()
            marked = dict(zip(map(int, lua[0::2]), lua[1::2]))
            collector = [st["tid"] for t, st in pairs if t["ident"] == s.truth["collector"]]
            h.check([tid for tid, m in marked.items() if m == "gc"] == collector, "Lua gc: %s" % marked)
            core = h.gcore(s.pid, os.path.join(s.dir, "core"))
            s.stop()
            check_gc(h.snag_json("py-bt", core, "--json"), s.truth, interp, "gcore")


for _interp in h.interpreters(lo=(3, 12), hi=(3, 13), extra=False):
    register_subinterpreters(_interp)
for _interp in h.interpreters(lo=(3, 6), hi=(3, 13)):
    register_gc(_interp)

if __name__ == "__main__":
    h.main()
