# Subinterpreters (3.12+: _xxsubinterpreters, 3.13: _interpreters). Thread "nester" of the main
# interpreter calls run_string() into a subinterpreter, whose code starts its own thread
# "sub-worker" and parks: one OS thread runs two interpreters, nested, and another runs only the
# subinterpreter. sys._current_frames() reads every interpreter without their GILs (it crashed
# 3.12 and 3.13 here), so each thread writes its own record before it parks; the truth lists
# them all, each with "interpreter" (its id), and "interpreters" gives the main and sub ids.
import glob
import json
import os
import sys
import threading
import time

import _scenario

HERE = os.path.dirname(os.path.abspath(__file__))


def record_here(records_dir, interp_id, line):
    """This thread's record (its caller parked at `line`) as a file the main thread collects."""
    record = _scenario.stack_here(depth=2, line=line)
    record["native_id"] = threading.get_native_id()
    record["interpreter"] = interp_id
    name = "%d-%d.json" % (record["native_id"], interp_id)
    _scenario._write_atomically(os.path.join(records_dir, name), json.dumps(record))


def park(records_dir, interp_id):
    here = sys._getframe().f_lineno
    record_here(records_dir, interp_id, here + 3)
    while True:
        time.sleep(3600)


def inside(records_dir, interp_id):
    """Runs in the subinterpreter, on the nester's OS thread."""
    worker = threading.Thread(target=park, args=(records_dir, interp_id), name="sub-worker")
    worker.start()
    park(records_dir, interp_id)


def interpreters_module():
    try:
        import _interpreters  # 3.13
        return _interpreters
    except ImportError:
        import _xxsubinterpreters  # 3.12
        return _xxsubinterpreters


def nester(module, interp, records_dir, main_id):
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import py_subinterpreters\n"
            "py_subinterpreters.inside(%r, %d)\n" % (HERE, records_dir, int(interp)))
    here = sys._getframe().f_lineno
    record_here(records_dir, main_id, here + 2)
    module.run_string(interp, code)


def sleeping(tids):
    states = []
    for tid in tids:
        with open("/proc/self/task/%d/stat" % tid) as f:
            states.append(f.read().rsplit(")", 1)[1].split()[0])
    return all(s == "S" for s in states)


def wait_for_records(records_dir, expected, timeout=60.0):
    """The records once `expected` threads wrote theirs and sleep, three polls in a row."""
    deadline, rounds = time.time() + timeout, 0
    while time.time() < deadline:
        paths = sorted(glob.glob(os.path.join(records_dir, "*.json")))
        if len(paths) == expected:
            records = [json.load(open(p)) for p in paths]
            rounds = rounds + 1 if sleeping(set(r["native_id"] for r in records)) else 0
            if rounds >= 3:
                return records
        time.sleep(0.05)
    sys.stderr.write("scenario: the subinterpreter threads never parked\n")
    os._exit(3)


def main():
    module = interpreters_module()
    main_id = module.get_main()
    main_id = int(main_id[0] if isinstance(main_id, tuple) else main_id)  # 3.13: (id, whence)
    interp = module.create()
    truth = os.environ.get("SNAG_TRUTH") or os.path.abspath("truth.json")
    records_dir = os.path.join(os.path.dirname(truth), "subinterpreter-records")
    os.mkdir(records_dir)
    t = threading.Thread(target=nester, args=(module, interp, records_dir, main_id), name="nester")
    t.daemon = True
    t.start()
    records = wait_for_records(records_dir, 3)
    here = sys._getframe().f_lineno
    me = _scenario.stack_here(line=here + 6)
    me.update(native_id=threading.get_native_id(), interpreter=main_id)
    _scenario.write_truth(records + [me], interpreters={"main": main_id, "sub": int(interp)})
    _scenario.signal_ready()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
