"""Live targets that change while snag reads them (issue 12, item 5): never a crash, a hang or a
target left stopped; an exit 2 is one sentence.

- killed: native_threads is SIGKILLed at a random moment (0–1.2 s) of `snag bt` / `snag dump`.
- exec, fork, threads: examples/scenarios/py_churn.py re-executes itself, forks, or starts and
  ends threads while `snag bt` runs; fork and threads must still give every stack (exit 0).
- SIGSTOP/SIGCONT: sent to native_threads every few ms during `snag bt`; and a target stopped
  before snag comes is still stopped after it.
- Yama: the message for kernel.yama.ptrace_scope 1, 2 and 3. Where the kernel has Yama, 1 and 2
  are set for real (the old value is restored on every path); 3 cannot be lowered again without
  a reboot, and kernels without Yama have no file, so every scope is also shown to snag through
  a private mount namespace (a tmpfs over /proc/sys/kernel holding yama/ptrace_scope).
"""
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

YAMA = "/proc/sys/kernel/yama/ptrace_scope"
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
YAMA_MESSAGES = {
    1: "not permitted: kernel.yama.ptrace_scope=1 allows tracing only descendants; run snag with sudo",
    2: "not permitted: kernel.yama.ptrace_scope=2 allows only CAP_SYS_PTRACE; run snag with sudo.",
    3: "ptrace is disabled on this machine (kernel.yama.ptrace_scope=3, only a reboot lowers it)",
}
RNG = random.Random(12)


def snag_run(argv, what):
    """Runs snag; a signal, a sanitizer report, a hang or an exit 2 without a sentence fails."""
    try:
        r = h.run(argv, timeout=30)
    except subprocess.TimeoutExpired:
        raise h.Failure("%s: snag did not finish within 30 s" % what)
    h.check(r.returncode in (0, 2), "%s: exit %d: %s" % (what, r.returncode, r.stderr[-2000:]))
    h.check(not re.search(r"Sanitizer|runtime error|terminate called", r.stderr), "%s: %s" % (what, r.stderr[-2000:]))
    if r.returncode == 2:
        h.check(re.search(r"^snag: \S", r.stderr, re.M), "%s: exit 2 without a sentence: %r" % (what, r.stderr))
    return r


def status_of(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
    return fields


def check_released(pid, what, stopped=False):
    """No tracer left, and every thread runs (or, with stopped=True, stays in its group-stop)."""
    deadline = time.monotonic() + 2
    while True:
        states = h.task_states(pid)
        tracer = int(status_of(pid)["TracerPid"])
        wrong = {t: s for t, s in states.items() if (s == "T") != stopped or s == "t"}
        if tracer == 0 and not wrong:
            return
        if time.monotonic() > deadline:
            raise h.Failure("%s: tracer %d, threads in the wrong state %s" % (what, tracer, wrong))
        time.sleep(0.01)


def churn(mode):
    return h.start_scenario([sys.executable, os.path.join(h.SCENARIOS, "py_churn.py"), mode], settle_tasks=False)


@h.case("killed while snag reads: bt and dump end with exit 0 or one sentence")
def killed():
    exe = h.native_threads_exe()
    outcomes, messages = {0: 0, 2: 0}, set()
    for i in range(16):
        with h.start_scenario([exe]) as s:
            argv = [h.SNAG, "bt", str(s.pid)] if i % 2 else [h.SNAG, "dump", str(s.pid), "-o", os.path.join(h.scratch(), "core")]
            killer = threading.Timer(RNG.uniform(0, 1.2), lambda: os.kill(s.pid, signal.SIGKILL))
            killer.start()
            try:
                r = snag_run(argv, "run %d (%s)" % (i, argv[1]))
            finally:
                killer.cancel()
            outcomes[r.returncode] += 1
            # A dead thread is not one that "did not stop" (a zombie leader used to time out so).
            h.check("did not stop" not in r.stderr, "run %d: %s" % (i, r.stderr))
            if r.returncode == 2:
                messages.add(re.sub(r"\d+", "N", r.stderr.strip().splitlines()[-1]))
    print("  exit codes: %s; messages: %s" % (outcomes, sorted(messages)))
    h.check(outcomes[2] > 0, "no run was hit by the kill; the test lost its point: %s" % outcomes)


@h.case("exec while snag reads: exit 0 or one sentence, the process runs on untraced")
def execs():
    outcomes = {0: 0, 2: 0}
    with churn("exec") as s:
        for i in range(10):
            outcomes[snag_run([h.SNAG, "bt", str(s.pid)], "exec run %d" % i).returncode] += 1
        h.check(s.alive(), "the exec loop died: " + s.output()[-1000:])
        check_released(s.pid, "after the exec runs")
    print("  exit codes: %s" % outcomes)


@h.case("fork while snag reads: every run gives the stacks, no child is left stopped")
def forks():
    with churn("fork") as s:
        for i in range(10):
            r = snag_run([h.SNAG, "bt", str(s.pid)], "fork run %d" % i)
            h.check(r.returncode == 0 and "#0" in r.stdout,
                    "fork run %d: exit %d: %s" % (i, r.returncode, r.stderr[-1000:]))
        check_released(s.pid, "after the fork runs")
        h.check(s.alive(), "the fork loop died: " + s.output()[-1000:])


@h.case("threads exit between listing and reading: every run gives the stacks")
def thread_churn():
    with churn("threads") as s:
        for i in range(10):
            r = snag_run([h.SNAG, "bt", str(s.pid)], "threads run %d" % i)
            h.check(r.returncode == 0 and "#0" in r.stdout, "threads run %d: exit %d: %s" % (i, r.returncode, r.stderr[-1000:]))
        check_released(s.pid, "after the thread-churn runs")


@h.case("SIGSTOP/SIGCONT while snag reads; a stopped target stays stopped")
def stop_cont():
    exe = h.native_threads_exe()
    with h.start_scenario([exe]) as s:
        done = threading.Event()

        def toggle():
            while not done.is_set():
                os.kill(s.pid, signal.SIGSTOP)
                time.sleep(RNG.uniform(0.001, 0.005))
                os.kill(s.pid, signal.SIGCONT)
                time.sleep(RNG.uniform(0.001, 0.005))

        toggler = threading.Thread(target=toggle)
        toggler.start()
        try:
            outcomes = {0: 0, 2: 0}
            for i in range(10):
                outcomes[snag_run([h.SNAG, "bt", str(s.pid)], "stop/cont run %d" % i).returncode] += 1
        finally:
            done.set()
            toggler.join()
            os.kill(s.pid, signal.SIGCONT)
        print("  exit codes: %s" % outcomes)
        check_released(s.pid, "after the SIGSTOP/SIGCONT runs")
        os.kill(s.pid, signal.SIGSTOP)
        try:
            r = snag_run([h.SNAG, "bt", str(s.pid)], "stopped target")
            h.check(r.returncode == 0 and "spin_forever" in r.stdout, "stopped target: %s" % r.stderr[-1000:])
            check_released(s.pid, "after bt of a stopped target", stopped=True)
        finally:
            os.kill(s.pid, signal.SIGCONT)
        check_released(s.pid, "after SIGCONT")


def yama_message(scope, pid, simulated):
    if simulated:
        script = ('mount -t tmpfs snag-yama /proc/sys/kernel && mkdir /proc/sys/kernel/yama && '
                  'echo %d > %s && exec "$@"' % (scope, YAMA))
        argv = ["unshare", "-m", "sh", "-c", script, "sh"] + NOBODY + [h.SNAG, "bt", str(pid)]
    else:
        argv = NOBODY + [h.SNAG, "bt", str(pid)]
    r = snag_run(argv, "ptrace_scope=%d%s" % (scope, " (simulated)" if simulated else ""))
    h.check(r.returncode == 2 and YAMA_MESSAGES[scope] in r.stderr,
            "ptrace_scope=%d: exit %d, expected %r in %r" % (scope, r.returncode, YAMA_MESSAGES[scope], r.stderr))


def need_nobody_tools():
    if os.geteuid() != 0:
        h.skip("needs root (to run snag as uid 65534 and to set the sysctl)")
    for tool in ("setpriv", "unshare"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            h.skip("%s is not installed (util-linux)" % tool)
    if not os.access(h.SNAG, os.X_OK) or subprocess.run(NOBODY + [h.SNAG, "--help"], capture_output=True).returncode not in (0, 1, 2):
        h.skip("uid 65534 cannot run %s (a directory on its path is not world-readable)" % h.SNAG)


@h.case("Yama ptrace_scope 1 and 2 set for real: snag's message names the scope")
def yama_real():
    need_nobody_tools()
    if not os.path.exists(YAMA):
        h.skip("this kernel has no Yama (%s is absent); the simulated case shows the messages" % YAMA)
    with open(YAMA) as f:
        old = f.read().strip()
    if old == "3":
        h.skip("ptrace_scope is 3 here: only a reboot lowers it")
    # A target of the same unprivileged user that is not snag's descendant: only Yama refuses.
    with h.start_scenario(NOBODY + [h.native_threads_exe()], directory=world_writable_scratch()) as s:
        try:
            for scope in (1, 2):
                try:
                    with open(YAMA, "w") as f:
                        f.write("%d\n" % scope)
                except OSError as e:
                    h.skip("cannot set %s (%s): /proc/sys is read-only here" % (YAMA, e))
                yama_message(scope, s.pid, simulated=False)
        finally:
            with open(YAMA, "w") as f:
                f.write(old + "\n")


def world_writable_scratch():
    d = h.scratch()
    os.chmod(d, 0o777)
    return d


@h.case("Yama ptrace_scope 1, 2 and 3 as snag reads them (private mount namespace)")
def yama_simulated():
    need_nobody_tools()
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs snag-yama /proc/sys/kernel"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        h.skip("cannot mount in a private mount namespace here: %s" % probe.stderr.strip())
    # A root-owned target: uid 65534 may not read its memory, so snag explains the EPERM.
    with h.start_scenario([h.native_threads_exe()]) as s:
        for scope in (1, 2, 3):
            yama_message(scope, s.pid, simulated=True)
        check_released(s.pid, "after the Yama runs")


if __name__ == "__main__":
    h.main()
