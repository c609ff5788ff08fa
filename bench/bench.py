"""snag against gdb, eu-stack and drgn on one target, in one run (bench/run calls this).

Target: bench/target_200.py under Debian's /usr/bin/python3.11 (200 threads x 30 Python frames),
or under --python PATH (with --chroot ROOT: ROOT/PATH run chrooted, e.g. the sid root's
/usr/bin/python3.14 from scripts/make-rootfs sid; its work files then live under ROOT/tmp).
--py-bt-only measures snag py-bt alone (live stop, core wall time), to compare versions.
Live:  the time the target is stopped (largest gap seen by its timestamper thread while the
       tool runs) for snag bt / snag py-bt / gdb thread apply all bt, and snag dump / gcore.
Core:  wall time and peak RSS (/usr/bin/time -f %M) of snag bt, eu-stack --core, drgn
       (bench/drgn_bt.py), gdb -batch thread apply all bt; snag py-bt vs gdb py-bt; snag py-bt
       --native vs drgn. Prints a table and the ratios the issues ask for; --json FILE saves all.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "target_200.py")
DRGN = os.path.join(HERE, "drgn_bt.py")
PYTHON = "/usr/bin/python3.11"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--snag", required=True)
    p.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 200)))
    p.add_argument("--depth", type=int, default=int(os.environ.get("BENCH_DEPTH", 30)))
    p.add_argument("--workdir", default=os.environ.get("BENCH_WORKDIR", "/tmp/snag-bench"))
    p.add_argument("--no-gdb-py-bt", action="store_true", help="skip gdb's py-bt (slowest)")
    p.add_argument("--timeout", type=int, default=1800, help="per tool run, seconds")
    p.add_argument("--keep", action="store_true", help="keep the cores in --workdir")
    p.add_argument("--json", help="write every measurement here")
    p.add_argument("--python", default=PYTHON, help="interpreter of the target (default %(default)s)")
    p.add_argument("--chroot", help="run --python chrooted in this root (snag stays outside)")
    p.add_argument("--py-bt-only", action="store_true", help="only snag py-bt, live and on a gcore core")
    args = p.parse_args()
    if args.chroot:
        args.chroot = os.path.abspath(args.chroot)
        args.workdir = os.path.join(args.chroot, "tmp", "snag-bench")
    # The interpreter as this machine sees it (for --exe and for checks).
    args.python_here = (args.chroot or "") + args.python
    return args


class Bench(object):
    def __init__(self, args):
        self.args = args
        self.snag = os.path.abspath(args.snag)
        self.work = args.workdir
        self.results = {}
        self.proc = None
        self.gaps = os.path.join(self.work, "gaps.log")

    # ------------------------------------------------------------ measuring

    def timed(self, label, cmd, env=None):
        """Run cmd under /usr/bin/time; record wall seconds, peak RSS (KB), exit code."""
        rss_file = os.path.join(self.work, "rss.txt")
        start = time.monotonic()
        try:
            r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=self.args.timeout, env=env)
            code = r.returncode
            out = r.stdout
        except subprocess.TimeoutExpired:
            code, out = "timeout", b""
        end = time.monotonic()
        try:
            with open(rss_file) as f:
                rss = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            rss = None
        rec = {"cmd": " ".join(cmd), "wall_s": round(end - start, 3), "rss_kb": rss,
               "exit": code, "out_lines": out.count(b"\n"), "start": start, "end": end}
        self.results[label] = rec
        status = "" if code == 0 else "  (exit %s)" % code
        print("  %-28s %9.3f s  %8s KB%s" % (label, rec["wall_s"], rss, status), flush=True)
        return rec, out

    def stop_time(self, rec):
        """Largest gap the target's timestamper saw during [start, end] of a tool run."""
        deadline = time.monotonic() + 2.0
        while True:
            gaps = self.read_gaps()
            if any(t >= rec["end"] for t, _ in gaps) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        inside = [g for t, g in gaps if rec["start"] <= t and t - g <= rec["end"] + 0.001]
        rec["stop_s"] = round(max(inside), 4) if inside else 0.0
        return rec["stop_s"]

    def read_gaps(self):
        try:
            with open(self.gaps) as f:
                return [tuple(float(x) for x in line.split()) for line in f if line.strip()]
        except OSError:
            return []

    # ------------------------------------------------------------ target

    def inside(self, path):
        """A path as the (maybe chrooted) target names it."""
        return path[len(self.args.chroot):] if self.args.chroot else path

    def start_target(self):
        ready = os.path.join(self.work, "ready")
        env = dict(os.environ, BENCH_THREADS=str(self.args.threads),
                   BENCH_DEPTH=str(self.args.depth), BENCH_GAPS=self.inside(self.gaps),
                   SNAG_READY=self.inside(ready))
        target = os.path.join(self.work, "target_200.py")
        shutil.copy(TARGET, target)
        cmd = [self.args.python, self.inside(target)]
        if self.args.chroot:
            cmd = ["chroot", self.args.chroot] + cmd
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("bench: target did not start")
            time.sleep(0.05)
        time.sleep(1.0)  # a quiet second: the gap log's baseline noise, reported below
        baseline = [g for _, g in self.read_gaps()]
        self.results["baseline_gap_s"] = round(max(baseline), 4) if baseline else 0.0
        return self.proc.pid

    def stop_target(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def has(self, sub):
        r = subprocess.run([self.snag, sub, "--help"], capture_output=True, text=True)
        return "unknown subcommand" not in r.stdout + r.stderr

    # ------------------------------------------------------------ phases

    def live(self, pid):
        print("live (PID %d, %d threads):" % (pid, self.args.threads + 2), flush=True)
        only = self.args.py_bt_only
        runs = [] if only else [("live snag bt", [self.snag, "bt", str(pid)])]
        if self.has("py-bt"):
            runs.append(("live snag py-bt", [self.snag, "py-bt", str(pid)]))
        if not only:
            runs.append(("live gdb bt", ["gdb", "-batch", "-nx", "-p", str(pid),
                                         "-ex", "thread apply all bt"]))
        for label, cmd in runs:
            rec, _ = self.timed(label, cmd)
            print("  %-28s stopped %.4f s" % ("", self.stop_time(rec)), flush=True)
        dump = os.path.join(self.work, "snag.core")
        if self.has("dump") and not only:
            rec, _ = self.timed("snag dump", [self.snag, "dump", str(pid), "-o", dump])
            print("  %-28s stopped %.4f s, %s" % ("", self.stop_time(rec), size(dump)), flush=True)
        core = os.path.join(self.work, "gcore.core")
        rec, _ = self.timed("gcore", ["gdb", "-batch", "-nx", "-p", str(pid),
                                      "-ex", "gcore %s" % core])
        print("  %-28s stopped %.4f s, %s" % ("", self.stop_time(rec), size(core)), flush=True)
        self.results["gcore_bytes"] = os.path.getsize(core) if os.path.exists(core) else 0
        return core

    def cores(self, core):
        print("core (%s):" % size(core), flush=True)
        with open(core, "rb") as f:  # warm the page cache so no tool pays the first read
            while f.read(1 << 24):
                pass
        exe = self.args.python_here
        if self.args.py_bt_only:
            self.timed("core snag py-bt", [self.snag, "py-bt", core, "--exe", exe])
            return
        self.timed("core snag bt", [self.snag, "bt", core, "--exe", exe])
        self.timed("core eu-stack", ["eu-stack", "--core", core, "--executable", exe])
        _, out = self.timed("core drgn", ["/usr/bin/python3", DRGN, core])
        try:
            self.results["core drgn"]["detail"] = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
        self.timed("core gdb bt", ["gdb", "-batch", "-nx", "-ex", "thread apply all bt",
                                   "-c", core, exe])
        if self.has("py-bt"):
            self.timed("core snag py-bt", [self.snag, "py-bt", core, "--exe", exe])
            self.timed("core snag py-bt --native",
                       [self.snag, "py-bt", core, "--exe", exe, "--native"])
            if not self.args.no_gdb_py_bt and exe == PYTHON:
                # no -nx here: gdb must auto-load python3.11-gdb.py (python3.11-dbg) for py-bt
                self.timed("core gdb py-bt", ["gdb", "-batch", "-ex", "thread apply all py-bt",
                                              "-c", core, exe])

    # ------------------------------------------------------------ report

    def ratio(self, name, slow, fast, key="wall_s", want=None):
        a, b = self.results.get(slow), self.results.get(fast)
        if not a or not b or a.get(key) is None or not b.get(key):
            return
        value = a[key] / b[key]
        verdict = "" if want is None else ("  (target >= %g: %s)"
                                           % (want, "met" if value >= want else "NOT met"))
        self.results.setdefault("ratios", {})[name] = round(value, 2)
        print("  %-44s %8.2fx%s" % (name, value, verdict))

    def report(self):
        print("ratios (how many times snag is faster / stops shorter):")
        self.ratio("eu-stack / snag bt (core)", "core eu-stack", "core snag bt", want=1)
        self.ratio("drgn / snag bt (core)", "core drgn", "core snag bt", want=3)
        self.ratio("gdb bt / snag bt (core)", "core gdb bt", "core snag bt", want=20)
        self.ratio("gdb py-bt / snag py-bt (core)", "core gdb py-bt", "core snag py-bt", want=50)
        self.ratio("drgn / snag py-bt --native (core)", "core drgn", "core snag py-bt --native",
                   want=1)
        self.ratio("live stop: gdb bt / snag bt", "live gdb bt", "live snag bt", "stop_s", 20)
        self.ratio("stop: gcore / snag dump", "gcore", "snag dump", "stop_s", 3)
        rss = self.results.get("core snag bt", {}).get("rss_kb")
        if rss:
            print("  %-44s %8.1f MB  (target < 200 MB: %s)"
                  % ("peak RSS, snag bt on the core", rss / 1024.0,
                     "met" if rss < 200 * 1024 else "NOT met"))
        pystop = self.results.get("live snag py-bt", {}).get("stop_s")
        if pystop is not None:
            print("  %-44s %8.1f ms (target <= 30 ms)" % ("live stop, snag py-bt", pystop * 1e3))
        print("  (timestamper noise with no tool attached: largest gap %.1f ms)"
              % (self.results.get("baseline_gap_s", 0) * 1e3))


def size(path):
    if not os.path.exists(path):
        return "missing"
    st = os.stat(path)
    return "%.2f GB (%.2f GB on disk)" % (st.st_size / 1e9, st.st_blocks * 512 / 1e9)


def main():
    args = parse_args()
    if not os.access(args.python_here, os.X_OK):
        raise SystemExit("bench: %s is required" % args.python_here)
    for tool in ("gdb", "eu-stack", "/usr/bin/time"):
        if not shutil.which(tool):
            raise SystemExit("bench: %s is required (make bench installs it)" % tool)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    b = Bench(args)
    print("snag bench: %d threads x %d Python frames, %s, snag %s"
          % (args.threads, args.depth, args.python_here, b.snag), flush=True)
    try:
        pid = b.start_target()
        core = b.live(pid)
    finally:
        b.stop_target()
    b.cores(core)
    b.report()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(b.results, f, indent=1)
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
