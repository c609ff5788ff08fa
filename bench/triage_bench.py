"""Cores per minute: `snag triage -j 2` against a shell loop of gdb -batch per core (issue 18).

Makes --cores distinct cores of the bundled scenarios (a deadlock and a crash, under Debian's
/usr/bin/python3.11, whose py-bt gdb loads from python3.11-dbg, and under pyenv 3.12 when it is
there), then on the same files, one run each:
  snag triage -j 2 into a fresh SQLite store (cold: first read of the cores; warm: again, fresh store)
  for core in ...; gdb -batch -ex 'thread apply all bt' -ex 'thread apply all py-bt' EXE core
and prints cores per minute, the ratio, and the peak RSS of the largest snag process (/usr/bin/time %M).
usage: bench/triage_bench.py --snag build/snag [--cores N] [--workdir DIR] [--json FILE]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(ROOT, "examples", "scenarios")


def interpreters():
    found = ["/usr/bin/python3.11"] if os.path.exists("/usr/bin/python3.11") else []
    pyenv = "/root/.pyenv/versions"
    if os.path.isdir(pyenv):
        found += [os.path.join(pyenv, v, "bin", "python3") for v in sorted(os.listdir(pyenv)) if v.startswith("3.12")]
    return found


def deadlock_core(snag, python, path, work):
    ready = os.path.join(work, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    env = dict(os.environ, SNAG_READY=ready, SNAG_TRUTH=os.path.join(work, "truth"))
    p = subprocess.Popen([python, os.path.join(SCENARIOS, "py_deadlock_rlock.py")], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            if time.monotonic() > deadline or p.poll() is not None:
                raise SystemExit("the deadlock scenario did not get ready under %s" % python)
            time.sleep(0.02)
        subprocess.run([snag, "dump", str(p.pid), "-o", path], check=True, capture_output=True)
    finally:
        p.kill()
        p.wait()


def crash_core(snag, python, path):
    subprocess.run([snag, "run", "--on-crash", "dump", "-o", path, "--", python,
                    os.path.join(SCENARIOS, "py_crash.py"), "segv"], capture_output=True, timeout=120)
    if not os.path.exists(path):
        raise SystemExit("no crash core under %s" % python)


def make_cores(snag, count, work):
    pythons = interpreters()
    if not pythons:
        raise SystemExit("no Python for the scenarios")
    cores = []
    for i in range(count):
        python = pythons[i % len(pythons)]
        path = os.path.join(work, "cores", "%03d.core" % i)
        if i % 2 == 0:
            deadlock_core(snag, python, path, work)
        else:
            crash_core(snag, python, path)
        cores.append((path, python))
    return cores


def timed(cmd, **kw):
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, **kw)
    wall = time.monotonic() - start
    rss_kb = int(r.stderr.strip().splitlines()[-1]) if r.stderr.strip() else 0
    return wall, rss_kb, r


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--snag", required=True)
    p.add_argument("--cores", type=int, default=24)
    p.add_argument("--workdir", default=None)
    p.add_argument("--json")
    args = p.parse_args()
    snag = os.path.abspath(args.snag)
    work = args.workdir or tempfile.mkdtemp(prefix="snag-triage-bench-")
    os.makedirs(os.path.join(work, "cores"), exist_ok=True)
    print("making %d cores in %s ..." % (args.cores, work), flush=True)
    cores = make_cores(snag, args.cores, work)
    size = sum(os.path.getsize(c) for c, _ in cores)
    results = {"cores": len(cores), "bytes": size}
    for label in ("cold", "warm"):
        if label == "cold":
            subprocess.run(["sync"])
            # Dropping the page cache needs root and touches the whole machine: only when asked.
            if os.environ.get("BENCH_DROP_CACHES") == "1":
                with open("/proc/sys/vm/drop_caches", "w") as f:
                    f.write("1\n")
        db = os.path.join(work, "%s.db" % label)
        wall, rss, r = timed([snag, "triage", "-j", "2", "--db", db, os.path.join(work, "cores")])
        if r.returncode != 0 or "%d analysed" % len(cores) not in r.stdout:
            raise SystemExit("snag triage failed: %s %s" % (r.stdout[-2000:], r.stderr[-2000:]))
        results["snag_" + label] = {"seconds": wall, "per_minute": len(cores) * 60 / wall, "peak_rss_kb": rss}
    gdb = shutil.which("gdb")
    if gdb:
        start = time.monotonic()
        py_bt = 0
        for core, python in cores:
            exe = os.path.realpath(python)
            r = subprocess.run([gdb, "-batch", "-nx", "-iex", "set auto-load safe-path /", "-ex", "thread apply all bt",
                                "-ex", "thread apply all py-bt", exe, core], capture_output=True, text=True)
            py_bt += "Traceback (most recent call first)" in r.stdout
        wall = time.monotonic() - start
        results["gdb_loop"] = {"seconds": wall, "per_minute": len(cores) * 60 / wall, "cores_with_py_bt": py_bt}
    print("%d cores, %.0f MiB" % (len(cores), size / 2 ** 20))
    print("%-28s %9s %12s %14s" % ("", "seconds", "cores/min", "peak RSS MiB"))
    for key in ("snag_cold", "snag_warm", "gdb_loop"):
        if key in results:
            v = results[key]
            rss = "%.0f" % (v["peak_rss_kb"] / 1024) if "peak_rss_kb" in v else "-"
            name = {"snag_cold": "snag triage -j 2 (cold)", "snag_warm": "snag triage -j 2 (warm)",
                    "gdb_loop": "gdb -batch loop"}[key]
            print("%-28s %9.1f %12.0f %14s" % (name, v["seconds"], v["per_minute"], rss))
    if "gdb_loop" in results:
        print("snag (warm) / gdb loop: %.1fx; gdb printed py-bt for %d of %d cores" % (
            results["snag_warm"]["per_minute"] / results["gdb_loop"]["per_minute"],
            results["gdb_loop"]["cores_with_py_bt"], len(cores)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if not args.workdir:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
