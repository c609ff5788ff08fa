#!/usr/bin/env python3
"""Breakpoint hit round trip (stop, trivial action, resume): snag vs gdb on examples/scenarios
call_loop (1 thread calling tick() CALLS times once triggered). Per hit = wall time from the
trigger to the scenario's done file, divided by CALLS, minus the undebugged run's share.
Usage: bench/breakpoint_roundtrip.py SNAG CALL_LOOP [CALLS [ROUNDS]]  (ROUNDS: medians)"""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def run(call_loop, calls, debugger):
    d = tempfile.mkdtemp(prefix="snag-bench-")
    env = dict(os.environ, SNAG_TRIGGER=d + "/go", SNAG_READY=d + "/ready", SNAG_TRUTH=d + "/truth")
    p = subprocess.Popen([call_loop, "1", str(calls)], env=env)
    while not os.path.exists(d + "/ready"):
        time.sleep(0.005)
    tool = debugger(p.pid) if debugger else None
    if tool:
        # Wait until the debugger's int3 is in tick's first byte.
        tick = json.load(open(d + "/truth"))["tick"]
        deadline = time.time() + 120
        while time.time() < deadline:
            with open("/proc/%d/mem" % p.pid, "rb") as mem:
                mem.seek(tick)
                if mem.read(1) == b"\xcc":
                    break
            time.sleep(0.01)
    start = time.perf_counter()
    open(d + "/go", "w").close()
    while not os.path.exists(d + "/ready.done"):
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    if tool:
        tool.send_signal(signal.SIGTERM if "snag" in tool.args[0] else signal.SIGKILL)
        tool.wait()
    p.kill()
    p.wait()
    return elapsed


def main():
    snag, call_loop = sys.argv[1], sys.argv[2]
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    action = "commands\nsilent\ncontinue\nend"
    snag_cmd = lambda pid: subprocess.Popen([snag, "exec", str(pid), "-ex", "break tick", "-ex", action,
                                             "-ex", "continue --seconds 600"], stdout=subprocess.DEVNULL)
    script = tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False)
    script.write("break *tick\n" + action + "\ncontinue\n")
    script.close()
    gdb_cmd = lambda pid: subprocess.Popen(["gdb", "-q", "-nx", "-batch", "-p", str(pid), "-x", script.name],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    per_snag, per_gdb = [], []
    for _ in range(rounds):  # interleaved, so a change of machine load hits both alike
        base = run(call_loop, calls, None)
        s = run(call_loop, calls, snag_cmd)
        g = run(call_loop, calls, gdb_cmd)
        per_snag.append((s - base) / calls * 1e6)
        per_gdb.append((g - base) / calls * 1e6)
        print("calls %d: undebugged %.3f s, snag %.3f s, gdb %.3f s" % (calls, base, s, g))
    ms, mg = statistics.median(per_snag), statistics.median(per_gdb)
    label = "per hit" if rounds == 1 else "per hit, median of %d" % rounds
    print("%s: snag %.1f us, gdb %.1f us, ratio %.1fx" % (label, ms, mg, mg / ms))

if __name__ == "__main__":
    main()
