"""snag dump records the signal that stopped the process (NT_SIGINFO), as the kernel does.

- `snag run --on-crash dump`: a thread writes to address 0x10. gdb on the core says "Program
  terminated with signal SIGSEGV", selects the faulting thread and shows $_siginfo's fault
  address; `snag bt --json` on it reports signal 11, SEGV_MAPERR and fault address 0x10, the
  faulting thread first.
- A plain `snag dump` of a process no signal stopped has no signal: gdb names none.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CRASH_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) void write_to_0x10(void) { *(volatile int*)0x10 = 1; }
static void* faulter(void* arg) { (void)arg; write_to_0x10(); return 0; }
int main(int argc, char** argv) {
    (void)argv;
    if (argc > 1) {  /* parked: for a plain dump */
        const char* ready = getenv("SNAG_READY");
        FILE* f = ready ? fopen(ready, "w") : NULL;
        if (f) { fputs("ready\n", f); fclose(f); }
        for (;;) pause();
    }
    pthread_t t;
    pthread_create(&t, 0, faulter, 0);
    pthread_join(t, 0);
    return 0;
}
"""


def program():
    d = h.scratch()
    src, exe = os.path.join(d, "crash.c"), os.path.join(d, "crash")
    with open(src, "w") as f:
        f.write(CRASH_C)
    if subprocess.run(["gcc", "-g", "-O0", "-pthread", "-o", exe, src]).returncode != 0:
        h.skip("no C compiler")
    return exe


def gdb_on(core, exe, *commands):
    cmd = ["gdb", "-batch", "-nx", "-c", core, exe]
    for c in commands:
        cmd += ["-ex", c]
    return h.run(cmd, timeout=300)


@h.case("JIT core of a SIGSEGV: gdb and snag see the signal, the fault address and the thread")
def jit_crash():
    if not h.has_subcommand("run"):
        h.skip("snag run not built")
    exe = program()
    core = os.path.join(h.scratch(), "segv.core")
    r = h.snag("run", "--on-crash", "dump", "-o", core, "--", exe, timeout=120)
    h.check(r.returncode == 128 + 11, "exit %d: %s" % (r.returncode, r.stderr))
    m = re.search(r"received SIGSEGV in thread (\d+)", r.stderr)
    h.check(m, "no crash report: " + r.stderr)
    faulting = int(m.group(1))
    g = gdb_on(core, exe, "print $_siginfo.si_signo", "print $_siginfo._sifields._sigfault.si_addr", "bt 1")
    out = g.stdout + g.stderr
    h.check("Program terminated with signal SIGSEGV, Segmentation fault." in out, "gdb:\n" + out)
    h.check(re.search(r"Current thread is 1 \(Thread 0x[0-9a-f]+ \(LWP %d\)\)" % faulting, out), "gdb:\n" + out)
    h.check(re.search(r"\$1 = 11\b", out) and re.search(r"\$2 = \(void \*\) 0x10\b", out), "gdb:\n" + out)
    h.check("write_to_0x10" in out, "gdb bt 1:\n" + out)
    stacks = h.snag_json("bt", core, "--json")
    target = stacks["target"]
    h.check(target.get("signal") == 11 and target.get("signal_code") == 1 and
            target.get("fault_address") == "0x10", "snag target: %s" % target)
    first = stacks["threads"][0]
    h.check(first["tid"] == faulting and first["frames"][0]["function"] == "write_to_0x10",
            "first thread: %s" % first)


@h.case("plain snag dump: no signal recorded")
def plain_dump():
    exe = program()
    with h.start_scenario([exe, "park"], settle_tasks=False) as s:
        core = os.path.join(h.scratch(), "plain.core")
        r = h.snag("dump", s.pid, "-o", core, timeout=300)
        h.check(r.returncode == 0, "snag dump: %s" % r.stderr)
        h.check(s.alive(), "scenario died")
    out = gdb_on(core, exe).stdout
    h.check("Program terminated with signal" not in out, "gdb names a signal:\n" + out)
    target = h.snag_json("bt", core, "--json")["target"]
    h.check("signal" not in target, "snag target: %s" % target)


if __name__ == "__main__":
    h.main()
