#!/usr/bin/env python3
"""How long `snag tasks PID` keeps an asyncio process stopped: examples/scenarios/py_asyncio_many.py
(10,000 idle tasks gathered by main) under PYTHON, `snag tasks PID --json` run RUNS times; prints
each run's stopped_ms (snag's clock from attach to detach) and stops, then min / median / max.
usage: bench/asyncio_stop.py SNAG [--python PATH] [--runs N] [--tasks N]"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(os.path.dirname(HERE), "examples", "scenarios", "py_asyncio_many.py")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("snag")
    p.add_argument("--python", default=os.path.expanduser("~/.pyenv/versions/3.12.1/bin/python3"))
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--tasks", type=int, default=10000)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="snag-bench-")
    ready = os.path.join(work, "ready")
    env = dict(os.environ, SNAG_READY=ready, SNAG_TRUTH=os.path.join(work, "truth.json"),
               SNAG_TASKS=str(a.tasks))
    proc = subprocess.Popen([a.python, SCENARIO], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (os.path.exists(ready) and open(ready).read().startswith("ready")):
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("the scenario did not become ready")
            time.sleep(0.1)
        stopped = []
        for _ in range(a.runs):
            r = subprocess.run([a.snag, "tasks", str(proc.pid), "--json"], capture_output=True, text=True)
            doc = json.loads(r.stdout)
            target = doc["target"]
            count = doc["asyncio"]["task_count"]
            if count != a.tasks + 1:
                sys.exit("snag saw %d tasks, not %d" % (count, a.tasks + 1))
            stopped.append(float(target["stopped_ms"]))
            print("stopped_ms %s stops %s tasks %d" % (target["stopped_ms"], target.get("stops", "?"), count))
        print("snag tasks, %d tasks, %d runs: stopped %.0f / %.0f / %.0f ms (min / median / max), load %.1f"
              % (a.tasks + 1, a.runs, min(stopped), statistics.median(stopped), max(stopped), os.getloadavg()[0]))
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
