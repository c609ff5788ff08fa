"""Integration test harness for snag (stdlib only; runs under /usr/bin/python3).

API (import with `sys.path.insert(0, os.path.dirname(__file__)); import harness as h`):

  Configuration (h.ARGS, parsed from argv; unknown options are left to the test):
    --snag PATH      snag binary (else env SNAG, else build/snag next to the source tree)
    --bin-dir DIR    where compiled scenarios live (else env SNAG_SCENARIO_BIN, else dir of snag)
    -k SUBSTRING     run only cases whose name contains it
    --native-threads PATH   the native_threads scenario binary (else the one in --bin-dir)
  h.SNAG, h.SCENARIOS (examples/scenarios source dir), h.scenario_bin(name) -> path or None
  h.native_threads_exe() -> the native_threads binary; skips the case when it is not built
  h.interpreters(lo=(3, 6), hi=(3, 13), extra=True) -> [Interpreter(path, version, label,
      libdir, root, hide_debug)] for /root/.pyenv/versions/* and Debian /usr/bin/python3.11
      (label "debian-3.11"); root/hide_debug are for chroot interpreters (None/False here)
  h.rootfs(suite) -> the Debian root filesystem scripts/make-rootfs makes once (cached; may take
      minutes); None when it cannot be made (h.rootfs_problem(suite) says why)
  h.free_threaded_interpreters() -> [Interpreter] (free_threaded=True) for the --disable-gil
      builds scripts/make-python-ft left in $SNAG_CACHE (label "ft-3.13t"); never builds one
  h.chroot_interpreters(suite, names) -> [Interpreter] for ROOT/usr/bin/NAME, run with
      `chroot ROOT` (paths inside the root); each twice: label "SUITE-3.X" (the root's -dbg
      files visible to the process, as /proc/PID/root shows them) and "SUITE-3.X-nodbg"
      (hide_debug: a tmpfs over ROOT/usr/lib/debug in the scenario's own mount namespace)
  h.core_python() -> path of a Python for scenario cores (pyenv 3.11/3.12, else Debian 3.11) or None
  h.skip(msg)               raise inside a case: it reports SKIP with msg
  h.start_scenario(cmd, env=None, timeout=30, cwd=None, settle_tasks=True) -> Scenario
      starts cmd (new session, stdout/stderr captured to files) with SNAG_READY/SNAG_TRUTH set,
      waits for the ready file (polling, no bare sleeps), then, if the truth lists threads and
      settle_tasks, until /proc/PID/task has exactly that many threads.
      Scenario: .pid, .truth (dict or None), .dir (scratch dir), .output() (stdout+stderr),
      .stop() (kill the whole process group and reap; idempotent); use as a context manager.
  h.py_scenario(interp, script, *args, env=None, **kw) -> Scenario   (python script by name;
      for a chroot interpreter the scenarios are copied into its root and its dir is there)
  h.snag(*args, timeout=120, check=False) -> subprocess.CompletedProcess (text mode)
  h.snag_json(*args) -> parsed JSON of a successful snag run (fails the case otherwise)
  h.has_subcommand(name) -> bool   (is `snag NAME` known to this build?)
  h.gcore(pid, path) -> path       gdb's gcore, checked to be a non-empty ELF core
  h.gdb_bt(core, exe) -> [{"tid", "name", "frames": [{"function", "pc"}]}]  (thread apply all bt)
  h.strip_libpython(interp, mode="debug"|"all") -> temp dir holding a stripped libpython copy
      (use as LD_LIBRARY_PATH; pyenv binaries use RUNPATH, which LD_LIBRARY_PATH overrides)
  h.tasks(pid) -> sorted list of TIDs
  h.python_threads(truth, stacks) -> [(truth_thread, snag_thread or None)] matched by
      native_id (3.8+) or by ident == snag thread's python.thread_id
  h.scratch(root=None) -> temp dir removed at exit (under ROOT/tmp when root is given)
  h.native_threads_core(exe, subcommand) -> path of one gcore core of the native_threads scenario
      per test process (skips when exe is missing or this snag lacks `snag SUBCOMMAND`)
  h.Pty(argv, env_extra=None, rows=60, cols=160, timeout=20) -> argv on a pseudo-terminal, as a user
      drives it: .expect(regex, timeout=the constructor's) waits for it in the output (ANSI codes and \r removed) after the
      last match, .send(text), .line(text) (text + Enter), .wait(timeout) -> exit code,
      .exit_status(timeout) -> exit code or None, .seen (all output), .close() (kills if running)
  Registry:  @h.case("name") def test(): ...   assert / h.check(cond, msg) fail the case;
             h.main() runs the cases, prints PASS/FAIL/SKIP lines, exits 1 on any failure.
"""
import argparse
import atexit
import collections
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(SOURCE_DIR, "examples", "scenarios")


def _parse_args():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--snag", default=os.environ.get("SNAG"))
    p.add_argument("--bin-dir", default=os.environ.get("SNAG_SCENARIO_BIN"))
    p.add_argument("-k", dest="only", default=None)
    p.add_argument("--native-threads", default=None)  # the native_threads scenario binary
    args, rest = p.parse_known_args()
    if not args.snag:
        args.snag = os.path.join(SOURCE_DIR, "build", "snag")
    args.snag = os.path.abspath(args.snag)
    if not args.bin_dir:
        args.bin_dir = os.path.join(os.path.dirname(args.snag), "examples", "scenarios")
    args.rest = rest
    return args


ARGS = _parse_args()
SNAG = ARGS.snag


class Skip(Exception):
    pass


class Failure(AssertionError):
    pass


def skip(msg):
    raise Skip(msg)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# ---------------------------------------------------------------- scratch space

_scratch_dirs = []


def scratch(root=None):
    """A temp dir removed at exit; under ROOT/tmp for a process chrooted to root."""
    d = tempfile.mkdtemp(prefix="snag-it-", dir=os.path.join(root, "tmp") if root else None)
    _scratch_dirs.append(d)
    return d


@atexit.register
def _cleanup_scratch():
    for d in _scratch_dirs:
        shutil.rmtree(d, ignore_errors=True)


def scenario_bin(name):
    path = os.path.join(ARGS.bin_dir, name)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def native_threads_exe():
    """The native_threads scenario binary (--native-threads PATH, else the build's); skips without it."""
    exe = ARGS.native_threads or scenario_bin("native_threads")
    if not exe or not os.access(exe, os.X_OK):
        skip("native_threads scenario binary not built")
    return exe


# ---------------------------------------------------------------- interpreters

Interpreter = collections.namedtuple("Interpreter", "path version label libdir root hide_debug free_threaded",
                                     defaults=(None, False, False))


def _version_of(path):
    return _version_of_cmd([path])


def _version_of_cmd(cmd):
    try:
        out = subprocess.run(cmd + ["-c", "import sys; print('%d %d %d' % sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return tuple(int(x) for x in out.stdout.split())


def interpreters(lo=(3, 6), hi=(3, 13), extra=True):
    """Every CPython on the machine within [lo, hi] (major, minor)."""
    found = []
    for prefix in sorted(glob.glob("/root/.pyenv/versions/*")):
        exe = None
        for name in ("python3", "python"):
            if os.access(os.path.join(prefix, "bin", name), os.X_OK):
                exe = os.path.join(prefix, "bin", name)
                break
        version = exe and _version_of(exe)
        if version and lo <= version[:2] <= hi:
            found.append(Interpreter(exe, version, "pyenv-%d.%d.%d" % version,
                                     os.path.join(prefix, "lib")))
    if extra and os.access("/usr/bin/python3.11", os.X_OK):
        version = _version_of("/usr/bin/python3.11")
        if version and lo <= version[:2] <= hi:
            found.append(Interpreter("/usr/bin/python3.11", version, "debian-3.11", None))
    found.sort(key=lambda i: (i.version, i.label))
    return found


CACHE = os.environ.get("SNAG_CACHE", "/var/cache/snag")


def free_threaded_interpreters():
    """The free-threaded CPythons scripts/make-python-ft has built into the cache (3.13t; 3.14t
    when built from SNAG_CPYTHON_SRC). Never builds: `make python-ft` does, once."""
    found = []
    for minor in ("3.13", "3.14"):
        exe = os.path.join(CACHE, "python%st" % minor, "bin", "python%st" % minor)
        if not os.access(exe, os.X_OK):
            continue
        r = _version_of_cmd([exe, "-X", "gil=0"])
        if r:
            found.append(Interpreter(exe, r, "ft-%st" % minor, os.path.dirname(os.path.dirname(exe)) + "/lib",
                                     free_threaded=True))
    return found


_rootfs = {}


def rootfs(suite):
    """scripts/make-rootfs SUITE: made once and cached outside the tree; None when it cannot be."""
    if suite not in _rootfs:
        try:
            r = run([os.path.join(SOURCE_DIR, "scripts", "make-rootfs"), suite], timeout=3600)
            ok = r.returncode == 0 and os.path.isdir(r.stdout.strip())
            _rootfs[suite] = (r.stdout.strip(), None) if ok else \
                (None, "scripts/make-rootfs %s failed: %s" % (suite, r.stderr.strip()[-300:]))
        except (OSError, subprocess.TimeoutExpired) as e:
            _rootfs[suite] = (None, "scripts/make-rootfs %s: %s" % (suite, e))
    return _rootfs[suite][0]


def rootfs_problem(suite):
    return _rootfs.get(suite, (None, "not made yet"))[1]


def chroot_interpreters(suite, names):
    root = rootfs(suite)
    found = []
    for name in names if root else ():
        inner = "/usr/bin/" + name
        if not os.access(root + inner, os.X_OK):
            continue
        version = _version_of_cmd(["chroot", root, inner])
        if version:
            label = "%s-%d.%d" % ((suite,) + version[:2])
            found.append(Interpreter(inner, version, label, None, root))
            found.append(Interpreter(inner, version, label + "-nodbg", None, root, True))
    return found


def _chroot_cmd(interp, argv):
    if not interp.hide_debug:
        return ["chroot", interp.root] + argv
    # Only this process's mount namespace loses the -dbg files; the shared root is untouched.
    script = 'mount -t tmpfs none "$0/usr/lib/debug" && exec chroot "$0" "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, interp.root] + argv


def core_python():
    """An interpreter for Python scenario cores: pyenv 3.11/3.12, else Debian's 3.11, else None."""
    for i in interpreters(lo=(3, 11), hi=(3, 12)):
        if i.label.startswith("pyenv"):
            return i.path
    return "/usr/bin/python3.11" if os.access("/usr/bin/python3.11", os.X_OK) else None


# ---------------------------------------------------------------- scenarios


def tasks(pid):
    try:
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return []


def task_states(pid):
    """{tid: state letter (R S D T t Z ...)} of every thread still there."""
    out = {}
    for tid in tasks(pid):
        try:
            with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
                out[tid] = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
    return out


class Scenario(object):
    def __init__(self, proc, directory):
        self.proc = proc
        self.pid = proc.pid
        self.dir = directory
        self.truth = None

    def output(self):
        text = ""
        for name in ("stdout", "stderr"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the whole session: pool workers, children
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        else:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # leftover children of an exited leader
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


_live = []


@atexit.register
def _stop_all():
    for s in _live:
        s.stop()


def _wait_until(predicate, timeout, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)  # polling a condition, never a bare fixed wait
    return predicate()


def start_scenario(cmd, env=None, timeout=30, cwd=None, settle_tasks=True, root=None, directory=None):
    """root: cmd runs chrooted there, so the files it is told of are named from inside it."""
    directory = directory or scratch(root)
    full_env = dict(os.environ)
    full_env.update(env or {})
    ready = os.path.join(directory, "ready")
    truth = os.path.join(directory, "truth.json")
    inside = (lambda path: path[len(root):]) if root else (lambda path: path)
    full_env["SNAG_READY"] = inside(ready)
    full_env["SNAG_TRUTH"] = inside(truth)
    full_env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    out = open(os.path.join(directory, "stdout"), "w")
    err = open(os.path.join(directory, "stderr"), "w")
    proc = subprocess.Popen(cmd, env=full_env, cwd=cwd, stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    out.close()
    err.close()
    s = Scenario(proc, directory)
    _live.append(s)
    ok = _wait_until(lambda: os.path.exists(ready) or proc.poll() is not None, timeout)
    if not ok or not os.path.exists(ready):
        s.stop()
        raise Failure("scenario %s did not become ready within %ss (exit %s): %s"
                      % (" ".join(cmd), timeout, proc.poll(), s.output()[-2000:]))
    if os.path.exists(truth):
        with open(truth) as f:
            s.truth = json.load(f)
    expected = s.truth and s.truth.get("threads")
    if settle_tasks and expected:
        # The reporter thread exits right after writing ready; wait until it is gone.
        if not _wait_until(lambda: len(tasks(s.pid)) == len(expected), 10):
            s.stop()
            raise Failure("scenario %s: %d tasks, truth lists %d threads"
                          % (cmd, len(tasks(s.pid)), len(expected)))
    return s


def py_scenario(interp, script, *args, **kw):
    if isinstance(interp, Interpreter) and interp.root:
        d = scratch(interp.root)
        for name in glob.glob(os.path.join(SCENARIOS, "*.py")):
            shutil.copy(name, d)
        argv = [interp.path, os.path.join(d[len(interp.root):], script)] + list(args)
        return start_scenario(_chroot_cmd(interp, argv), root=interp.root, directory=d, **kw)
    path = interp.path if isinstance(interp, Interpreter) else interp
    return start_scenario([path, os.path.join(SCENARIOS, script)] + list(args), **kw)


# ---------------------------------------------------------------- running tools


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                          timeout=timeout, **kw)


def snag(*args, timeout=120, check=False):
    if not os.access(SNAG, os.X_OK):
        skip("snag binary not found at %s" % SNAG)
    r = run([SNAG] + [str(a) for a in args], timeout=timeout)
    if check and r.returncode != 0:
        raise Failure("snag %s exited %d: %s" % (" ".join(map(str, args)), r.returncode,
                                                  r.stderr.strip()[-2000:]))
    return r


def snag_json(*args, timeout=120):
    r = snag(*args, timeout=timeout, check=True)
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise Failure("snag %s printed invalid JSON (%s): %s"
                      % (" ".join(map(str, args)), e, r.stdout[:500]))


_subcommands = {}


def has_subcommand(name):
    """True if this snag build knows `name` (an unknown subcommand fails as a usage error)."""
    if name not in _subcommands:
        r = snag(name, "--help", timeout=30)
        text = (r.stdout + r.stderr).lower()
        _subcommands[name] = not re.search(r"unknown (sub)?command|no such (sub)?command", text)
    return _subcommands[name]


def _is_elf_core(path):
    try:
        with open(path, "rb") as f:
            head = f.read(18)
    except OSError:
        return False
    return len(head) == 18 and head[:4] == b"\x7fELF" and head[16:18] == b"\x04\x00"


def gcore(pid, path):
    r = run(["gdb", "-batch", "-nx", "-ex", "gcore %s" % path, "-p", str(pid)], timeout=600)
    if not _is_elf_core(path) or os.path.getsize(path) == 0:
        raise Failure("gcore of %d failed (exit %d): %s" % (pid, r.returncode, r.stderr[-2000:]))
    return path


_GDB_THREAD = re.compile(r'^Thread \d+ \(.*?LWP (\d+)\)(?: "([^"]*)")?')
_GDB_FRAME = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-fA-F]+) in )?(.+?) \(")


def parse_gdb_bt(text):
    threads, current = [], None
    for line in text.splitlines():
        m = _GDB_THREAD.match(line)
        if m:
            current = {"tid": int(m.group(1)), "name": m.group(2), "frames": []}
            threads.append(current)
            continue
        m = _GDB_FRAME.match(line)
        if m and current is not None:
            current["frames"].append({"function": m.group(3),
                                      "pc": int(m.group(2), 16) if m.group(2) else None})
    return threads


def gdb_bt(core, exe, extra=()):
    # past-main: gdb otherwise stops at main, while snag (like eu-stack) unwinds to _start.
    cmd = ["gdb", "-batch", "-nx", "-ex", "set pagination off",
           "-ex", "set backtrace past-main on"] + list(extra)
    cmd += ["-ex", "thread apply all bt", "-c", core, exe]
    r = run(cmd, timeout=600)
    threads = parse_gdb_bt(r.stdout)
    if not threads:
        raise Failure("gdb printed no threads for %s: %s" % (core, r.stderr[-2000:]))
    return threads


def strip_libpython(interp, mode="debug"):
    """A temp dir with a copy of interp's libpython stripped of DWARF (or of all symtabs)."""
    if interp.libdir is None:
        skip("%s links libpython statically; nothing to strip" % interp.label)
    libs = [p for p in glob.glob(os.path.join(interp.libdir, "libpython*.so*"))
            if not os.path.islink(p) and not os.path.basename(p).startswith("libpython3.so")]
    if not libs:
        skip("%s has no shared libpython" % interp.label)
    d = scratch()
    flag = "--strip-debug" if mode == "debug" else "--strip-all"
    for lib in libs:
        base = os.path.basename(lib)
        dest = os.path.join(d, base)
        r = run(["objcopy", flag, lib, dest])
        if r.returncode != 0:
            raise Failure("objcopy %s failed: %s" % (lib, r.stderr))
        # The soname link the dynamic loader looks for (libpython3.X.so.1.0 is the file itself).
        m = re.match(r"(libpython[\d.]+[mt]?\.so)\.1\.0$", base)
        if m:
            os.symlink(base, os.path.join(d, m.group(1)))
    return d


# ---------------------------------------------------------------- Python truth vs snag


def python_threads(truth, stacks):
    """Pair every ground-truth thread with snag's thread (None when snag lacks it)."""
    by_tid = dict((t.get("tid"), t) for t in stacks.get("threads", []))
    by_ident = {}
    for t in stacks.get("threads", []):
        py = t.get("python") or {}
        if py.get("thread_id") is not None:
            by_ident[py["thread_id"]] = t
    pairs = []
    for t in truth["threads"]:
        found = by_tid.get(t.get("native_id")) if t.get("native_id") else None
        pairs.append((t, found or by_ident.get(t["ident"])))
    return pairs


# ---------------------------------------------------------------- shared fixtures

_native_core = {}


def native_threads_core(exe, subcommand):
    """One gcore core of examples/scenarios/native_threads, shared by a test file's cases."""
    if "path" not in _native_core:
        if not exe or not os.access(exe, os.X_OK):
            skip("native_threads scenario binary not built")
        if not has_subcommand(subcommand):
            skip("this snag build has no %s subcommand" % subcommand)
        with start_scenario([exe]) as sc:
            _native_core["path"] = gcore(sc.pid, os.path.join(scratch(), "native_threads.core"))
    return _native_core["path"]


# ---------------------------------------------------------------- pseudo-terminals

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r|\x07")


class Pty(object):
    """argv on a pseudo-terminal (libedit sees a user); expect() waits for a regex in the output."""

    def __init__(self, argv, env_extra=None, rows=60, cols=160, timeout=20):
        import fcntl
        import pty
        import struct
        import termios
        env = dict(os.environ, TERM="xterm", PAGER="cat")
        env.update(env_extra or {})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.seen, self.pos, self.status = "", 0, None
        self.timeout = timeout  # expect()'s default wait

    def _read(self, timeout):
        import select
        if not select.select([self.fd], [], [], timeout)[0]:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        self.seen += _ANSI.sub("", data.decode("utf-8", "replace"))
        return bool(data)

    def expect(self, pattern, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        rx, deadline = re.compile(pattern, re.M), time.time() + timeout
        while True:
            m = rx.search(self.seen, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.time()
            if left <= 0 or (not self._read(min(left, 0.5)) and self.exit_status(0) is not None
                             and not rx.search(self.seen, self.pos)):
                raise Failure("expected %r; output since the last match:\n%s" % (pattern, self.seen[self.pos:]))

    def send(self, text):
        os.write(self.fd, text.encode())

    def line(self, text):
        self.send(text + "\r")

    def exit_status(self, timeout=60):
        """The exit code once the process ended (reading its output meanwhile), None at timeout."""
        deadline = time.time() + timeout
        while self.status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.status
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                while self._read(0.1):
                    pass
                break
            if time.time() >= deadline:
                return None
            self._read(0.1)
        return self.status

    def wait(self, timeout=20):
        code = self.exit_status(timeout)
        if code is None:
            raise Failure("%d did not exit; output:\n%s" % (self.pid, self.seen[-2000:]))
        return code

    def close(self):
        """Ends the process and whatever it started: pty.fork made it a session and group leader,
        so its traced children (stopped at a crash, say) go with it instead of staying in state T."""
        alive = self.exit_status(0) is None
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if alive:
            os.waitpid(self.pid, 0)
        os.close(self.fd)


# ---------------------------------------------------------------- registry

_cases = []


def case(name):
    def register(fn):
        _cases.append((name, fn))
        return fn
    return register


def main():
    failed = passed = skipped = 0
    for name, fn in _cases:
        if ARGS.only and ARGS.only not in name:
            continue
        start = time.monotonic()
        try:
            fn()
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
            continue
        except Exception as e:  # a case failure never stops the other cases
            failed += 1
            detail = str(e) if isinstance(e, AssertionError) and str(e) else \
                traceback.format_exc()
            print("FAIL %s: %s" % (name, detail), flush=True)
            continue
        passed += 1
        print("PASS %s (%.1fs)" % (name, time.monotonic() - start), flush=True)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    sys.exit(1 if failed else 0)
