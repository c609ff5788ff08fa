"""Live targets survive snag: attach/detach cycles and every way snag can die.

- The live suites of snag_unit (forked multi-threaded children: 100 attach/read/detach cycles,
  thread churn, errors naming their cause, signals to the holder of an attachment).
- `snag bt PID` 100 times on examples/scenarios/native_threads: each run exits 0, the scenario
  is never left stopped, its spinner keeps consuming CPU.
- `snag bt PID` killed by SIGTERM/SIGINT/SIGHUP/SIGKILL at random moments, and with its output
  pipe closed (SIGPIPE): the scenario is never left stopped and has no tracer.
- A vanished PID: exit status 2 and "no such process".
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

_opts = argparse.ArgumentParser()
_opts.add_argument("--unit", default=None)
OPTS = _opts.parse_args(h.ARGS.rest)


def scenario():
    exe = h.ARGS.native_threads or h.scenario_bin("native_threads")
    if not exe or not os.access(exe, os.X_OK):
        h.skip("native_threads scenario binary not built")
    return h.start_scenario([exe])


def need_bt():
    if not h.has_subcommand("bt"):
        h.skip("this snag build has no bt subcommand yet")


def tracer_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


def assert_running(pid, what):
    """Detached threads wake at once; give the scheduler half a second before failing."""
    deadline = time.monotonic() + 0.5
    while True:
        stopped = dict((t, s) for t, s in h.task_states(pid).items() if s in ("t", "T"))
        if not stopped and tracer_of(pid) == 0:
            return
        if time.monotonic() > deadline:
            raise h.Failure("%s: threads left stopped %s, tracer %d" % (what, stopped, tracer_of(pid)))
        time.sleep(0.01)


def cpu_ticks(pid):
    total = 0
    for tid in h.tasks(pid):
        try:
            with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def assert_progress(pid):
    before = cpu_ticks(pid)
    deadline = time.monotonic() + 5
    while cpu_ticks(pid) <= before:
        if time.monotonic() > deadline:
            raise h.Failure("scenario %d made no progress (its spinner consumed no CPU)" % pid)
        time.sleep(0.02)


@h.case("unit live suites")
def unit_live():
    if not OPTS.unit or not os.access(OPTS.unit, os.X_OK):
        h.skip("snag_unit not given (--unit)")
    r = h.run([OPTS.unit, "--test-case=live:*,exit safety:*", "--no-version"], timeout=300)
    h.check(r.returncode == 0, "snag_unit live suites failed:\n" + (r.stdout + r.stderr)[-4000:])


@h.case("snag bt 100 times: the scenario runs on")
def bt_cycles():
    need_bt()
    with scenario() as s:
        for i in range(100):
            r = h.snag("bt", s.pid, timeout=60)
            h.check(r.returncode == 0, "run %d: snag bt exited %d: %s" % (i, r.returncode, r.stderr[-1000:]))
            assert_running(s.pid, "after run %d" % i)
        h.check(s.alive(), "scenario died: " + s.output()[-1000:])
        assert_progress(s.pid)


def any_stopped(pid):
    return any(state in ("t", "T") for state in h.task_states(pid).values())


@h.case("snag killed by a signal at a random moment: the scenario runs on")
def killed_snag():
    """Even runs are killed the moment the scenario is seen stopped (snag holds it), odd runs
    after a random delay (startup, attach, unwinding or printing)."""
    need_bt()
    rng = random.Random(1234)
    held = 0
    with scenario() as s:
        for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL):
            for i in range(16):
                p = subprocess.Popen([h.SNAG, "bt", str(s.pid)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                if i % 2 == 0:
                    while p.poll() is None and not any_stopped(s.pid):
                        pass
                else:
                    time.sleep(rng.uniform(0, 0.1))
                if any_stopped(s.pid) and p.poll() is None:
                    held += 1
                p.send_signal(signo)
                p.wait(timeout=30)
                assert_running(s.pid, "after %s #%d (snag exit %s)" % (signal.Signals(signo).name, i, p.returncode))
        h.check(s.alive(), "scenario died: " + s.output()[-1000:])
        assert_progress(s.pid)
    print("  %d of 64 signals reached snag while it held the scenario stopped" % held)
    h.check(held >= 8, "only %d kills hit snag while it held the scenario; the test lost its point" % held)


@h.case("snag bt with a closed output pipe (SIGPIPE)")
def broken_pipe():
    need_bt()
    with scenario() as s:
        for i in range(10):
            p = subprocess.Popen([h.SNAG, "bt", str(s.pid)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            p.stdout.close()  # snag's first write raises SIGPIPE
            p.wait(timeout=30)
            assert_running(s.pid, "after closed pipe #%d (snag exit %s)" % (i, p.returncode))
        assert_progress(s.pid)


@h.case("vanished PID: exit 2, no such process")
def vanished():
    need_bt()
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    r = h.snag("bt", p.pid)
    h.check(r.returncode == 2, "exit %d, expected 2: %s" % (r.returncode, r.stderr))
    h.check("no such process %d" % p.pid in r.stderr, "unclear message: %r" % r.stderr)


if __name__ == "__main__":
    h.main()
