"""Containers as targets and the distributions' own Pythons (docs/live-targets.md, Containers).

Scenarios run inside Debian root filesystems (scripts/make-rootfs trixie|bookworm: Python 3.13.5,
3.11 with their -dbg packages) under `unshare --mount --pid --fork --mount-proc --root=DIR`, so
the process has its own PID namespace and its own files. Each case checks snag's frames, thread
ids (host TIDs, translated from the container's through NSpid) and lock states against the
scenario's own truth, live, --no-stop, gcore and `snag dump` cores, with and without --sysroot.
Lock states are also checked on every pyenv build (3.13.0's lock layout differs from 3.13.5's).
The bookworm scenario also runs under podman with runc (--rootfs): live py-bt, bt and analyze.
Skips with a message where a root filesystem, unshare, podman or gdb is unavailable.
"""
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

SUITES = {"trixie": "/usr/bin/python3.13", "bookworm": "/usr/bin/python3.11"}
_roots = {}


def rootfs(suite):
    """The suite's root filesystem (made once by scripts/make-rootfs), or a skip."""
    if suite not in _roots:
        script = os.path.join(h.SOURCE_DIR, "scripts", "make-rootfs")
        r = h.run([script, suite], timeout=1800)
        path = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None
        _roots[suite] = path if path and os.path.isdir(path) else None
        if not _roots[suite]:
            _roots[suite] = "skip: scripts/make-rootfs %s failed: %s" % (suite, r.stderr.strip()[-300:])
    if _roots[suite].startswith("skip: "):
        h.skip(_roots[suite][6:])
    if not os.access(os.path.join(_roots[suite], SUITES[suite].lstrip("/")), os.X_OK):
        h.skip("%s has no %s" % (_roots[suite], SUITES[suite]))
    return _roots[suite]


def need_unshare():
    r = h.run(["unshare", "--mount", "--pid", "--fork", "true"], timeout=30) if shutil.which("unshare") else None
    if r is None or r.returncode != 0:
        h.skip("unshare --mount --pid cannot run here: %s" % (r.stderr.strip() if r else "no unshare"))


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def namespace_tids(pid):
    """{tid inside the container: host tid} from NSpid."""
    out = {}
    for tid in h.tasks(pid):
        with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("NSpid:"):
                    out[int(line.split()[-1])] = tid
    return out


class Container(object):
    """A scenario run as PID 1 of a new PID namespace, chrooted into a root filesystem. Its files
    sit in DIR/tmp/snag-ct-*/ (the container's /tmp/snag-ct-*/); pid is the host's PID."""

    def __init__(self, root, python, script, args=()):
        self.root = root
        self.inner = tempfile.mkdtemp(prefix="snag-ct-", dir=os.path.join(root, "tmp"))
        self.path = "/" + os.path.relpath(self.inner, root)  # as the container sees it
        for name in ("_scenario.py", script):
            shutil.copy(os.path.join(h.SCENARIOS, name), self.inner)
        self.env = {"SNAG_READY": self.path + "/ready", "SNAG_TRUTH": self.path + "/truth.json",
                    "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
        self.script = self.path + "/" + script
        self.log = open(os.path.join(self.inner, "log"), "w")
        try:
            self.start([python, self.script] + list(args))
            self.wait_ready(script)
        except BaseException:
            self.stop()
            raise

    def start(self, argv):
        cmd = ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--root=" + self.root,
               "--wd=" + self.path] + argv
        self.proc = subprocess.Popen(cmd, env=dict(os.environ, **self.env), stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def running(self):
        return self.proc.poll() is None

    def find_pid(self):
        kids = children(self.proc.pid)
        h.check(len(kids) == 1, "unshare should have one child, has %s" % kids)
        return kids[0]

    def wait_ready(self, script):
        deadline = time.monotonic() + 60
        ready = os.path.join(self.inner, "ready")
        while not os.path.exists(ready) and self.running() and time.monotonic() < deadline:
            time.sleep(0.02)  # polling the ready file the scenario writes
        if not os.path.exists(ready):
            raise h.Failure("container scenario %s never became ready: %s" % (script, self.output()))
        with open(os.path.join(self.inner, "truth.json")) as f:
            self.truth = json.load(f)
        self.pid = self.find_pid()
        want = len(self.truth["threads"])
        while len(h.tasks(self.pid)) != want and time.monotonic() < deadline:
            time.sleep(0.02)  # the reporter thread exits right after ready
        self.ns_to_host = namespace_tids(self.pid)
        h.check(self.truth["pid"] == 1 and self.ns_to_host.get(1) == self.pid,
                "the scenario should be PID 1 of its namespace: truth pid %s, NSpid map %s"
                % (self.truth["pid"], self.ns_to_host))

    def output(self):
        try:
            with open(os.path.join(self.inner, "log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def host_tid(self, truth_thread):
        return self.ns_to_host.get(truth_thread.get("native_id"))

    def stop(self):
        proc = getattr(self, "proc", None)
        if proc and proc.poll() is None:
            try:
                os.killpg(proc.pid, 9)
            except OSError:
                pass
            proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.inner, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class PodmanContainer(Container):
    """The same scenario as a podman container (runc, the root filesystem given with --rootfs):
    PID 1 of its namespace under conmon, with podman's mounts, cgroup and seccomp profile."""

    def start(self, argv):
        self.name = "snag-test-%d-%s" % (os.getpid(), os.path.basename(self.inner))
        # No network; rlimits no higher than this machine's (runc cannot raise them without
        # CAP_SYS_RESOURCE, which a CI container often lacks).
        cmd = ["podman", "run", "-d", "--name", self.name, "--runtime", "runc", "--network", "none",
               "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--workdir", self.path]
        for key, value in sorted(self.env.items()):
            cmd += ["-e", "%s=%s" % (key, value)]
        r = h.run(cmd + ["--rootfs", self.root] + argv, timeout=120)
        if r.returncode != 0:
            h.skip("podman cannot run a container here: %s" % r.stderr.strip()[-400:])

    def inspect(self, field):
        r = h.run(["podman", "inspect", "--format", "{{%s}}" % field, self.name], timeout=60)
        return r.stdout.strip() if r.returncode == 0 else ""

    def running(self):
        return self.inspect(".State.Running") == "true"

    def find_pid(self):
        pid = int(self.inspect(".State.Pid") or 0)
        h.check(pid > 0, "podman inspect gives no PID for %s" % self.name)
        return pid

    def output(self):
        return h.run(["podman", "logs", self.name], timeout=60).stderr[-2000:] if hasattr(self, "name") else ""

    def stop(self):
        if hasattr(self, "name"):
            h.run(["podman", "rm", "--force", "--time", "0", self.name], timeout=120)
        Container.stop(self)


def need_podman():
    missing = [tool for tool in ("podman", "runc") if not shutil.which(tool)]
    if missing:
        h.skip("%s not installed (Debian: apt-get install podman runc)" % " and ".join(missing))
    if os.geteuid() != 0:
        h.skip("podman --rootfs with the cached root filesystem needs root")


# ---------------------------------------------------------------- checks against the truth


def frames_match(truth_thread, snag_thread, where):
    """Function and line of every frame; 3.11+ also end line and columns (co_positions)."""
    want = [(f.get("qualname") or f["function"], f["line"], f.get("positions")) for f in truth_thread["frames"]]
    got = [(f["function"], f["line"], [f["line"], f.get("end_line"), f.get("column"), f.get("end_column")]
            if "column" in f else None) for f in snag_thread["frames"] if f.get("kind", "python") == "python"]
    h.check(got == want, "%s: thread %s frames %s, truth %s" % (where, truth_thread["name"], got, want))


def by_name(truth):
    return dict((t["name"], t) for t in truth["threads"])


def check_threads(c, doc, where):
    """Every truth thread is there under its host TID, with the truth's frames."""
    snag_by_tid = dict((t["tid"], t) for t in doc["threads"])
    for t in c.truth["threads"]:
        host = c.host_tid(t)
        h.check(host in snag_by_tid, "%s: thread %s (host TID %s) missing; snag has TIDs %s"
                % (where, t["name"], host, sorted(snag_by_tid)))
        frames_match(t, snag_by_tid[host], where)
    h.check(0 not in snag_by_tid, "%s: a thread shown as TID 0" % where)


def check_waits(truth, doc, where):
    """wait mode: waiter blocks on held_lock (locked), rwaiter on the RLock owner holds twice."""
    names = by_name(truth)
    by_ident = dict(((t.get("python") or {}).get("thread_id"), t.get("python") or {}) for t in doc["threads"])
    for name in ("waiter", "rwaiter", "owner", "MainThread"):
        h.check(names[name]["ident"] in by_ident, "%s: thread %s (ident %#x) missing" % (where, name, names[name]["ident"]))
    w = by_ident[names["waiter"]["ident"]].get("waiting_on")
    h.check(w and w.get("lock") and w["lock"]["kind"] == "Lock" and w["lock"]["locked"] is True
            and w["address"] == truth["locks"]["held_lock"],
            "%s: waiter should wait on the held Lock %#x: %s" % (where, truth["locks"]["held_lock"], w))
    r = by_ident[names["rwaiter"]["ident"]].get("waiting_on")
    h.check(r and r.get("lock") and r["lock"]["kind"] == "RLock" and r["lock"]["locked"] is True
            and r["lock"]["owner_thread_id"] == names["owner"]["ident"] and r["lock"]["count"] == 2,
            "%s: rwaiter should wait on the RLock owner (%#x) holds twice: %s" % (where, names["owner"]["ident"], r))
    for name in ("owner", "MainThread"):
        h.check(not by_ident[names[name]["ident"]].get("waiting_on"), "%s: %s waits on nothing" % (where, name))


def check_sleeper_locals(truth, text, where):
    """sleep mode: the sleeper's locals show the held Lock locked, the free one unlocked."""
    held, free = truth["locks"]["held_lock"], truth["locks"]["free_lock"]
    h.check(re.search(r"held = <locked _thread\.lock object at %#x>" % held, text),
            "%s: held lock not shown locked:\n%s" % (where, text[-3000:]))
    h.check(re.search(r"free = <unlocked _thread\.lock object at %#x>" % free, text),
            "%s: free lock not shown unlocked:\n%s" % (where, text[-3000:]))
    owner = by_name(truth)["owner"]["ident"]
    h.check(re.search(r"rheld = <locked _thread\.RLock object owner=%#x count=2 " % owner, text),
            "%s: RLock not shown owned twice by %#x:\n%s" % (where, owner, text[-3000:]))
    h.check("waiting on" not in text, "%s: a sleeping process shows a wait:\n%s" % (where, text[-3000:]))


def py_bt_json(target, *args):
    return h.snag_json("py-bt", target, "--json", *args)


def analyze_findings(target):
    r = h.snag("analyze", target, "--format", "json", "--duration", "0")
    h.check(r.returncode in (0, 1), "snag analyze exited %d: %s" % (r.returncode, r.stderr[-1500:]))
    return [f["rule"] for f in json.loads(r.stdout)["findings"]]


# ---------------------------------------------------------------- cases


def container_case(suite):
    need_unshare()
    root = rootfs(suite)
    python = SUITES[suite]
    with Container(root, python, "py_lock_states.py", ["wait"]) as c:
        doc = py_bt_json(str(c.pid))
        check_threads(c, doc, suite + " live")
        check_waits(c.truth, doc, suite + " live")
        h.check(doc["target"].get("namespace_pid") == 1, "%s: JSON header lacks namespace_pid 1: %s"
                % (suite, doc["target"]))
        nostop = py_bt_json(str(c.pid), "--no-stop")
        check_threads(c, nostop, suite + " --no-stop")
        text = h.snag("py-bt", str(c.pid), "--no-stop").stdout
        h.check("Thread 0" not in text and "PID namespace" in text,
                "%s --no-stop text: TID 0 or no namespace note:\n%s" % (suite, text))
        cores = {"gcore": h.gcore(c.pid, os.path.join(h.scratch(), "ct.core")) if shutil.which("gdb") else None}
        if h.has_subcommand("dump"):
            path = os.path.join(h.scratch(), "ct.dump")
            r = h.snag("dump", str(c.pid), "-o", path)
            h.check(r.returncode == 0, "snag dump of the container process: %s" % r.stderr[-1000:])
            cores["snag dump"] = path
        # py-list reads the container's file, not the host's file at the same path.
        host_copy = c.script
        os.makedirs(os.path.dirname(host_copy), exist_ok=True)
        with open(host_copy, "w") as f:
            f.write("# the host's file, not the container's\n" * 80)
        try:
            names = by_name(c.truth)
            r = h.snag("exec", str(c.pid), "-ex", "thread apply all py-list")
            want = ">%d" % names["waiter"]["frames"][0]["line"]
            h.check(r.returncode == 0 and want in r.stdout and "held_lock.acquire()" in r.stdout
                    and "host's file" not in r.stdout,
                    "%s py-list should show the container's prog at %s: %s %s" % (suite, want, r.stdout, r.stderr))
        finally:
            shutil.rmtree(os.path.dirname(host_copy), ignore_errors=True)
    # unshare --root is a chroot: the core records host paths (DIR/usr/...), readable with or
    # without --sysroot DIR (not DIR/DIR/usr/...). An empty --sysroot stands for a machine that
    # lacks the container's files.
    empty = h.scratch()
    for kind, core in cores.items():
        if not core:
            continue
        where = "%s %s core" % (suite, kind)
        for sysroot in ((), ("--sysroot", root)):
            doc = py_bt_json(core, *sysroot)
            check_threads(c, doc, where + " " + " ".join(sysroot))
            check_waits(c.truth, doc, where + " " + " ".join(sysroot))
        bare = h.snag("py-bt", core, "--sysroot", empty)
        missing = "--sysroot" in bare.stderr and ("build-id" in bare.stderr or "not found" in bare.stderr)
        h.check(missing, "%s without its files: no build-id/missing-file warning and hint:\n%s" % (where, bare.stderr))
        if kind == "snag dump":
            h.check("ran in a container" in bare.stderr, "%s: no container note:\n%s" % (where, bare.stderr))
        if bare.returncode == 0:
            h.check(re.search(r"^#\d", bare.stdout, re.M), "%s: exit 0 with no frame:\n%s" % (where, bare.stdout))
        else:
            h.check(bare.returncode == 2, "%s without its files exited %d" % (where, bare.returncode))
        h.check(not re.search(r"frame at \d{6,}", bare.stdout + bare.stderr), "%s: decimal address:\n%s"
                % (where, bare.stdout))
        r = h.snag("py-bt", core, "--sysroot", "/nonexistent")
        h.check(r.returncode == 2 and "--sysroot /nonexistent" in r.stderr, "--sysroot /nonexistent: exit %d %s"
                % (r.returncode, r.stderr))


@h.case("container-trixie")
def test_trixie():
    container_case("trixie")


@h.case("container-bookworm")
def test_bookworm():
    container_case("bookworm")


@h.case("container-sleeping-locks")
def test_sleeping_locks():
    """A process that only sleeps, holding one Lock: locals show each lock's true state, and
    analyze finds no deadlock (3.13.5's PyMutex layout used to read as random states)."""
    need_unshare()
    for suite in ("trixie", "bookworm"):
        root = rootfs(suite)
        with Container(root, SUITES[suite], "py_lock_states.py", ["sleep"]) as c:
            r = h.snag("py-bt", str(c.pid), "--locals")
            h.check(r.returncode == 0, "%s py-bt --locals: %s" % (suite, r.stderr))
            check_sleeper_locals(c.truth, r.stdout, suite + " live")
            rules = analyze_findings(str(c.pid))
            h.check("python-deadlock" not in rules and "wait-chain" not in rules,
                    "%s: analyze of a sleeping process reports %s" % (suite, rules))


def check_native(c, doc, where):
    """bt: every host TID of the process, each stack read through the container's own files
    (its python3.11, whose -dbg file names the eval loop)."""
    tids = sorted(t["tid"] for t in doc["threads"])
    h.check(tids == sorted(h.tasks(c.pid)), "%s: bt TIDs %s, the process has %s" % (where, tids, h.tasks(c.pid)))
    for t in doc["threads"]:
        functions = [f.get("function") for f in t["frames"]]
        h.check("_PyEval_EvalFrameDefault" in functions, "%s: thread %d has no eval loop: %s"
                % (where, t["tid"], functions[:12]))


@h.case("container-podman")
def test_podman():
    """The bookworm scenario under podman with runc: live py-bt (with and without stopping), bt
    and analyze against the scenario's truth, with host TIDs."""
    need_podman()
    root = rootfs("bookworm")
    python = SUITES["bookworm"]
    with PodmanContainer(root, python, "py_lock_states.py", ["wait"]) as c:
        for mode in ((), ("--no-stop",)):
            doc = py_bt_json(str(c.pid), *mode)
            check_threads(c, doc, "podman py-bt %s" % " ".join(mode))
            check_waits(c.truth, doc, "podman py-bt %s" % " ".join(mode))
            h.check(doc["target"].get("namespace_pid") == 1, "podman: JSON header lacks namespace_pid 1: %s"
                    % doc["target"])
        check_native(c, h.snag_json("bt", str(c.pid), "--json"), "podman bt")
        r = h.snag("analyze", str(c.pid), "--format", "json", "--duration", "0")
        h.check(r.returncode in (0, 1), "podman analyze exited %d: %s" % (r.returncode, r.stderr[-1500:]))
        host = set(h.tasks(c.pid))
        for f in json.loads(r.stdout)["findings"]:
            h.check(set(f.get("threads") or []) <= host, "podman analyze: %s names TIDs %s, not the host's %s"
                    % (f["rule"], f.get("threads"), sorted(host)))
    with PodmanContainer(root, python, "py_lock_states.py", ["sleep"]) as c:
        r = h.snag("py-bt", str(c.pid), "--locals")
        h.check(r.returncode == 0, "podman py-bt --locals: %s" % r.stderr)
        check_sleeper_locals(c.truth, r.stdout, "podman live")
        rules = analyze_findings(str(c.pid))
        h.check("python-deadlock" not in rules and "wait-chain" not in rules,
                "podman: analyze of a sleeping process reports %s" % rules)


@h.case("lock-states-pyenv")
def test_lock_states_pyenv():
    """Every pyenv build, no container: the same lock truth (3.13.0 keeps the old layout)."""
    found = False
    for interp in h.interpreters(lo=(3, 6), hi=(3, 14)):
        found = True
        with h.py_scenario(interp, "py_lock_states.py", "wait") as s:
            doc = py_bt_json(str(s.pid))
            check_waits(s.truth, doc, interp.label)
        with h.py_scenario(interp, "py_lock_states.py", "sleep") as s:
            r = h.snag("py-bt", str(s.pid), "--locals")
            check_sleeper_locals(s.truth, r.stdout, interp.label)
    if not found:
        h.skip("no pyenv Python")


@h.case("sysroot-recorded-under-root")
def test_sysroot_recorded_under_root():
    """A core whose recorded paths already start with DIR (the rootfs's Python run from the host
    through the rootfs's own loader): --sysroot DIR finds them, not DIR/DIR/..."""
    root = rootfs("trixie")
    if not shutil.which("gdb"):
        h.skip("gdb (gcore) not installed")
    lib = "%s/lib/x86_64-linux-gnu:%s/usr/lib/x86_64-linux-gnu" % (root, root)
    cmd = [root + "/lib64/ld-linux-x86-64.so.2", "--library-path", lib, root + SUITES["trixie"],
           os.path.join(h.SCENARIOS, "py_lock_states.py"), "wait"]
    with h.start_scenario(cmd, env={"PYTHONHOME": root + "/usr"}) as s:
        core = h.gcore(s.pid, os.path.join(h.scratch(), "under-root.core"))
        truth = s.truth
    r = h.snag("py-bt", core, "--json", "--sysroot", root)
    h.check(r.returncode == 0 and "not found" not in r.stderr, "py-bt --sysroot %s: exit %d %s"
            % (root, r.returncode, r.stderr[-1500:]))
    doc = json.loads(r.stdout)
    by_tid = dict((t["tid"], t) for t in doc["threads"])
    for t in truth["threads"]:
        h.check(t["native_id"] in by_tid, "thread %s missing" % t["name"])
        frames_match(t, by_tid[t["native_id"]], "core under the root")
    check_waits(truth, doc, "core under the root")


ONE_THREAD_SPIN = """
import os
def spin():
    n = 0
    while True:
        n += 1
with open(os.environ["SNAG_READY"] + ".tmp", "w") as f:
    f.write("ready\\n")
os.rename(os.environ["SNAG_READY"] + ".tmp", os.environ["SNAG_READY"])
spin()
"""


@h.case("gil-one-thread-36")
def test_gil_one_thread_36():
    """3.6 creates the GIL with the second thread: a lone thread running bytecode holds it."""
    found = [i for i in h.interpreters(lo=(3, 6), hi=(3, 6))]
    if not found:
        h.skip("no Python 3.6")
    with h.start_scenario([found[0].path, "-c", ONE_THREAD_SPIN]) as s:
        for mode in ((), ("--no-stop",)):
            doc = py_bt_json(str(s.pid), *mode)
            h.check(len(doc["threads"]) == 1 and doc["threads"][0]["python"]["gil"] is True
                    and doc["threads"][0]["python"]["status"] == "holds the GIL",
                    "3.6, one thread %s: %s" % (mode, [t.get("python") for t in doc["threads"]]))


# ---------------------------------------------------------------- permissions


def pids_of_sleeper():
    return h.py_scenario("/usr/bin/python3", "py_lock_states.py", "sleep")


@h.case("permission-other-user")
def test_other_user():
    """snag as another user: py-bt and dump give the permission message bt gives."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        h.skip("needs root and setpriv to run snag as another user")
    with pids_of_sleeper() as s:
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", h.SNAG]
        out = os.path.join(tempfile.mkdtemp(), "x.core")
        os.chmod(os.path.dirname(out), 0o777)
        results = {}
        for cmd in (["bt", str(s.pid)], ["py-bt", str(s.pid)], ["py-bt", str(s.pid), "--no-stop"],
                    ["dump", str(s.pid), "-o", out]):
            r = h.run(drop + cmd, timeout=60)
            results[cmd[0] + (" --no-stop" if "--no-stop" in cmd else "")] = (r.returncode, r.stderr.strip())
        shutil.rmtree(os.path.dirname(out), ignore_errors=True)
        for name, (code, err) in results.items():
            h.check(code == 2 and "belongs to uid 0" in err and "snag runs as uid 65534" in err,
                    "%s as uid 65534: exit %d %r" % (name, code, err))


def deny_ptrace():
    """preexec_fn: a seccomp filter failing ptrace(2) with EPERM, as a container profile does."""
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    # BPF: load the syscall number; ptrace (101) -> SECCOMP_RET_ERRNO|EPERM, else ALLOW.
    prog = [(0x20, 0, 0, 0), (0x15, 0, 1, 101), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7fff0000)]
    code = b"".join(struct.pack("HBBI", *insn) for insn in prog)
    buf = ctypes.create_string_buffer(code)

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    fprog = Fprog(len(prog), ctypes.addressof(buf))
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        os._exit(97)


@h.case("permission-seccomp")
def test_seccomp():
    """ptrace denied by seccomp: the message names seccomp and --cap-add SYS_PTRACE, and says that
    --no-stop works there (it does)."""
    with pids_of_sleeper() as s:
        r = subprocess.run([h.SNAG, "bt", str(s.pid)], capture_output=True, text=True, timeout=60,
                           preexec_fn=deny_ptrace)
        if r.returncode == 97:
            h.skip("cannot install a seccomp filter here")
        h.check(r.returncode == 2 and "seccomp" in r.stderr and "SYS_PTRACE" in r.stderr and "--no-stop" in r.stderr,
                "bt under a ptrace-denying seccomp filter: exit %d %r" % (r.returncode, r.stderr))
        r = subprocess.run([h.SNAG, "py-bt", str(s.pid), "--no-stop"], capture_output=True, text=True, timeout=60,
                           preexec_fn=deny_ptrace)
        h.check(r.returncode == 0 and "sleeper" in r.stdout, "py-bt --no-stop under the filter: exit %d %s %s"
                % (r.returncode, r.stdout, r.stderr))


if __name__ == "__main__":
    h.main()
