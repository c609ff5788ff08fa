"""Findings on real daemons from Debian's packages (docs/rules.md, "Real daemons"): idle servers
get no finding at warning or above; a seeded hang gets exactly one, naming the process, the
thread, the application frame and the holder; a core of a process killed by `kill -SEGV` says who
sent the signal. Each daemon runs on 127.0.0.1 in a scratch directory and is stopped by its PID.
Packages (scripts/install-deps test): gunicorn, python3-flask, postgresql, redis-server, nginx;
missing ones skip."""
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

DAEMONS = os.path.join(h.SOURCE_DIR, "examples", "daemons")
LOUD = ("warning", "error", "critical")
TABLE = []   # precision table rows (scripts/precision-table): scenario, expected, given, verdict


def record(scenario, expected, findings, ok):
    given = "; ".join("%s %s (pid %s)" % (f["severity"], f["rule"], ",".join(map(str, f.get("pids") or [f.get("pid")])))
                      for f in findings) or "none"
    TABLE.append((scenario, expected, given, "true" if ok else "**false**"))


def write_table(path):
    lines = ["| scenario | expected at warning or above | given | right |", "|---|---|---|---|"]
    lines += ["| %s |" % " | ".join(row) for row in TABLE]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def analyze(target, *args):
    r = h.snag("analyze", target, "--format", "json", *args, timeout=300)
    h.check(r.returncode in (0, 1), "snag analyze %s exited %d: %s" % (target, r.returncode, r.stderr[-1500:]))
    return json.loads(r.stdout)


def analyze_idle(name, target, *args):
    """An idle server: exit 0, nothing at warning or above, blocked-threads says idle at info."""
    for _ in range(2):
        r = h.snag("analyze", target, "--format", "json", *args, timeout=300)
        result = json.loads(r.stdout) if r.stdout.strip() else {"findings": []}
        found = loud(result)
        idle = [f for f in result["findings"] if f["rule"] == "blocked-threads"]
        ok = r.returncode == 0 and not found and len(idle) == 1 and idle[0]["title"] == "The process is idle"
        # A live snapshot can land in a server's housekeeping (redis's serverCron opens /proc files
        # ten times a second: "waits for openat", at info): busy for a moment, so look once more.
        if ok or not str(target).isdigit():
            break
    record(name, "none", found, ok)
    h.check(r.returncode == 0, "%s: snag analyze exited %d: %s" % (name, r.returncode, r.stderr[-1500:]))
    h.check(not found, "%s: %s" % (name, summary(found)))
    h.check(len(idle) == 1 and idle[0]["title"] == "The process is idle" and idle[0]["severity"] == "info",
            "%s: want one idle info finding, got %s" % (name, summary(idle)))
    return result, idle[0]


def loud(result):
    return [f for f in result["findings"] if f["severity"] in LOUD]


def summary(findings):
    return "; ".join("%s %s pid %s: %s" % (f["severity"], f["rule"], f.get("pids", f.get("pid")), f["message"])
                     for f in findings)


def children(pid):
    out = []
    for task in h.tasks(pid):
        try:
            with open("/proc/%d/task/%d/children" % (pid, task)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def in_syscall(tid, number):
    try:
        with open("/proc/%d/syscall" % tid) as f:
            return f.read().split()[0] == str(number)
    except (OSError, IndexError):
        return False


def stop_pid(proc, sig=signal.SIGTERM):
    """Stops a daemon by its PID, then anything left of its session."""
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


# ---------------------------------------------------------------- gunicorn + Flask


class Gunicorn(object):
    def __init__(self, workers):
        exe = shutil.which("gunicorn") or "/usr/bin/gunicorn"
        if not os.access(exe, os.X_OK):
            h.skip("gunicorn is not installed (apt-get install gunicorn python3-flask)")
        if subprocess.run(["/usr/bin/python3", "-c", "import flask"], capture_output=True).returncode != 0:
            h.skip("python3-flask is not installed")
        self.dir = h.scratch()
        self.port = free_port()
        self.ready = os.path.join(self.dir, "ready")
        env = dict(os.environ, SNAG_READY=self.ready, PYTHONDONTWRITEBYTECODE="1")
        log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([exe, "-w", str(workers), "-b", "127.0.0.1:%d" % self.port, "--timeout", "600",
                                      "--chdir", DAEMONS, "flask_app:app"], cwd=self.dir, env=env, stdout=log,
                                     stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        ok = h._wait_until(lambda: self.get("/") == "hello\n" and len(children(self.proc.pid)) == workers, 60, 0.1)
        if not ok:
            self.stop()
            raise h.Failure("gunicorn did not answer: %s" % open(os.path.join(self.dir, "log")).read()[-2000:])
        self.workers = children(self.proc.pid)

    def get(self, path):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            return data.decode(errors="replace").split("\r\n\r\n", 1)[-1]
        except OSError:
            return None

    def stop(self):
        stop_pid(self.proc)


@h.case("gunicorn-idle")
def test_gunicorn_idle():
    g = Gunicorn(2)
    try:
        for args in (("--children",), ()):
            result = analyze(str(g.proc.pid), "--duration", "0.5", *args)
            record("gunicorn 2 workers, idle, live%s" % (" --children" if args else " (master)"), "none",
                   loud(result), not loud(result))
            h.check(not loud(result), "idle gunicorn %s: %s" % (args, summary(loud(result))))
        result = analyze(str(g.proc.pid), "--duration", "0.5", "--children")
        titles = [p.get("title", "") for p in result["processes"]]
        h.check(len(titles) == 3 and all("gunicorn" in t for t in titles), "process titles %s" % titles)
        idle = [f for f in result["findings"] if f["rule"] == "blocked-threads"]
        h.check(len(idle) == 1 and sorted(idle[0]["pids"]) == sorted([g.proc.pid] + g.workers)
                and idle[0]["severity"] == "info", "one idle info finding for the 3 processes: %s" % summary(idle))
        # A team's pack extension decides before the defaults: the arbiter's sleep made a lock point.
        team = os.path.join(g.dir, "team-rules")
        os.mkdir(team)
        with open(os.path.join(team, "our-service.lua"), "w") as f:
            f.write('return { idle_points = { { name = "arbiter under test", idle = false, python = { "Arbiter.sleep" } } } }\n')
        result = analyze(str(g.proc.pid), "--duration", "0", "--rules", team)
        stuck = loud(result)
        h.check(len(stuck) == 1 and "arbiter under test" in stuck[0]["message"] and result["errors"] == [],
                "team idle point: %s %s" % (summary(stuck), result["errors"]))
        listed = h.snag("rules", "list", team, check=True).stdout
        h.check("extension " in listed and "1 idle points" in listed, "rules list: %s" % listed)
    finally:
        g.stop()


@h.case("gunicorn-worker-hung-on-a-lock")
def test_gunicorn_hang():
    g = Gunicorn(2)
    try:
        client = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        client.sendall(b"GET /hang HTTP/1.0\r\nHost: x\r\n\r\n")
        h.check(h._wait_until(lambda: os.path.exists(g.ready), 30), "the refresher never took the lock")
        hung = [w for w in g.workers if len(h.tasks(w)) == 2]
        h.check(len(hung) == 1, "one worker with the refresher thread: %s" % g.workers)
        worker = hung[0]
        h.check(h._wait_until(lambda: in_syscall(worker, 202), 30), "the worker never blocked on the lock")
        core = os.path.join(g.dir, "worker.core")
        h.snag("dump", worker, "-o", core, check=True)
        for target, args in ((str(g.proc.pid), ("--children",)), (core, ())):
            result = analyze(target, "--duration", "0.5", *args)
            found = loud(result)
            ok = (len(found) == 1 and found[0].get("pid") == worker and "render_page" in found[0]["message"]
                  and "refresher" in found[0]["message"])
            record("gunicorn worker hung on an RLock held by a sleeping thread, %s" % ("live --children" if args else
                   "snag dump core of the worker"), "wait-chain (worker pid), render_page, holder refresher", found, ok)
            h.check(len(found) == 1, "%s: want exactly one finding, got %s" % (target, summary(found)))
            f = found[0]
            h.check(f.get("pid") == worker and f["threads"][0] == worker,
                    "%s: the finding names pid/thread %s/%s, want worker %d" % (target, f.get("pid"), f["threads"], worker))
            h.check("MainThread" in f["message"] and "render_page" in f["message"] and "refresher" in f["message"],
                    "%s: thread, application frame and holder in %r" % (target, f["message"]))
            h.check(f["frames"] and f["frames"][0]["function"].endswith("render_page"), "subject frame %s" % f["frames"])
        client.close()
    finally:
        g.stop()


# ---------------------------------------------------------------- PostgreSQL


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    if not found:
        h.skip("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1]


class Postgres(object):
    def __init__(self):
        try:
            self.user = pwd.getpwnam("postgres")
        except KeyError:
            h.skip("no postgres user (apt-get install postgresql)")
        if os.getuid() != 0:
            h.skip("PostgreSQL refuses root and this test switches to the postgres user: run as root")
        self.dir = h.scratch()
        os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        r = self.as_postgres([pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync",
                              "-E", "UTF8"], timeout=300)
        h.check(r.returncode == 0, "initdb: %s" % r.stderr[-1500:])
        log = os.path.join(self.dir, "log")
        # postgres itself, not pg_ctl: its PID is ours to stop; ulimit -c for the crash case.
        self.proc = subprocess.Popen([pg_bin("postgres"), "-D", self.data, "-p", str(self.port), "-k", self.dir,
                                      "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB",
                                      "-c", "max_connections=20"],
                                     preexec_fn=self.demote, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        ok = h._wait_until(lambda: self.sql("select 1") == "1" or self.proc.poll() is not None, 120, 0.2)
        if not ok or self.proc.poll() is not None:
            self.stop()
            raise h.Failure("postgres did not start: %s" % open(log).read()[-2000:])

    def demote(self):
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        os.setgid(self.user.pw_gid)
        os.setuid(self.user.pw_uid)

    def as_postgres(self, cmd, **kw):
        return subprocess.run(cmd, preexec_fn=self.demote, capture_output=True, text=True, cwd=self.dir, **kw)

    def psql(self):
        return [pg_bin("psql"), "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def sql(self, query):
        r = subprocess.run(self.psql() + ["-c", query], capture_output=True, text=True, timeout=60)
        return r.stdout.strip() if r.returncode == 0 else None

    def stop(self):
        stop_pid(self.proc, signal.SIGQUIT)  # immediate shutdown


@h.case("postgres-idle-and-lock-wait")
def test_postgres():
    pg = Postgres()
    holder = waiter = None
    try:
        result = analyze(str(pg.proc.pid), "--duration", "0.5", "--children")
        record("PostgreSQL cluster, idle, live --children", "none", loud(result), not loud(result))
        h.check(not loud(result), "idle PostgreSQL: %s" % summary(loud(result)))
        titles = [p.get("title", "") for p in result["processes"]]
        h.check(any(t.startswith("postgres: checkpointer") for t in titles), "process titles %s" % titles)
        # A session holds an exclusive table lock in an open transaction; another waits for it.
        pg.sql("create table accounts(id int)")
        holder = subprocess.Popen(pg.psql(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holder.stdin.write("begin; lock table accounts; select pg_backend_pid();\n")
        holder.stdin.flush()
        holder_pid = int(holder.stdout.readline())
        waiter = subprocess.Popen(pg.psql() + ["-c", "select count(*) from accounts"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        waiting = []
        h.check(h._wait_until(lambda: waiting.append(pg.sql("select pid from pg_locks where not granted")) or
                              (waiting[-1] or "").isdigit(), 60, 0.1), "no backend waits for the lock")
        waiter_pid = int(waiting[-1])
        result = analyze(str(pg.proc.pid), "--duration", "0.5", "--children")
        found = loud(result)
        record("PostgreSQL backend waiting for a table lock, live --children",
               "blocked-threads (waiting backend), ProcSleep, holder", found,
               len(found) == 1 and found[0]["pid"] == waiter_pid and str(holder_pid) in found[0]["message"])
        h.check(len(found) == 1, "want exactly one finding, got %s" % summary(found))
        f = found[0]
        h.check(f["pid"] == waiter_pid and f.get("pids", [waiter_pid]) == [waiter_pid],
                "the finding names pid %s, want the waiting backend %d" % (f.get("pids"), waiter_pid))
        h.check("ProcSleep" in f["message"] and "lock" in f["message"], "message %r" % f["message"])
        h.check(str(holder_pid) in f["message"], "the holder %d is named in %r" % (holder_pid, f["message"]))
        # kill -SEGV of the waiting backend: its kernel core says who sent the signal.
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        if pattern.startswith("|") or "/" in pattern:
            print("kill -SEGV core not checked: core_pattern %r is not a plain file name" % pattern)
            return
        os.kill(waiter_pid, signal.SIGSEGV)
        cores = []
        h.check(h._wait_until(lambda: not os.path.exists("/proc/%d" % waiter_pid) and
                              cores.extend(glob.glob(os.path.join(pg.data, "core*"))) is None and cores, 60, 0.1),
                "no core in %s (core_pattern %s)" % (pg.data, open("/proc/sys/kernel/core_pattern").read().strip()))
        crash = [f for f in analyze(cores[0])["findings"] if f["rule"] == "crash"]
        want = "SIGSEGV sent by kill() from PID %d (uid %d)" % (os.getpid(), os.getuid())
        record("PostgreSQL backend killed by kill -SEGV, kernel core", "crash: sent by kill() from PID, no address",
               crash, len(crash) == 1 and want in crash[0]["message"] and "address" not in crash[0]["message"])
        h.check(len(crash) == 1, "crash findings %s" % crash)
        h.check(want in crash[0]["message"] and "address" not in crash[0]["message"],
                "want %r in %r" % (want, crash[0]["message"]))
        h.check(" thread  " not in crash[0]["message"], "thread name blank: %r" % crash[0]["message"])
    finally:
        for p in (holder, waiter):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        pg.stop()


# ---------------------------------------------------------------- redis, nginx


class Redis(object):
    def __init__(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(exe, os.X_OK):
            h.skip("redis-server is not installed (apt-get install redis-server)")
        self.dir = h.scratch()
        self.port = free_port()
        log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                                      "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                     cwd=self.dir, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        self.client = None
        if not h._wait_until(lambda: self.command(b"PING") == b"+PONG", 60, 0.1):
            self.stop()
            raise h.Failure("redis did not answer: %s" % open(os.path.join(self.dir, "log")).read()[-2000:])

    def command(self, line):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.sendall(line + b"\r\n")
                return s.recv(4096).strip()
        except OSError:
            return None

    def stop(self):
        stop_pid(self.proc)


@h.case("redis-idle")
def test_redis_idle():
    r = Redis()
    try:
        # A client connected and quiet, as a service's connection pool keeps one.
        client = socket.create_connection(("127.0.0.1", r.port), timeout=5)
        client.sendall(b"SET k v\r\n")
        h.check(client.recv(64).strip() == b"+OK", "SET answered")
        threads = {t: open("/proc/%d/task/%d/comm" % (r.proc.pid, t)).read().strip() for t in h.tasks(r.proc.pid)}
        core = os.path.join(r.dir, "redis.core")
        h.snag("dump", r.proc.pid, "-o", core, check=True)
        for name, target in (("redis-server idle, a client connected, live", str(r.proc.pid)),
                             ("redis-server idle, snag dump core", core)):
            result, idle = analyze_idle(name, target, *(("--duration", "0.5") if target != core else ()))
            h.check(result["target"]["pid"] == r.proc.pid, "%s: target %s" % (name, result["target"]))
            points = " ".join(g["waits_on"] for g in idle["evidence"]["groups"])
            h.check("[event loop]" in points and "127.0.0.1:%d" % r.port in points,
                    "%s: the main thread's epoll_wait on the listening socket is the event loop: %s" % (name, points))
            h.check("[Redis background jobs]" in points, "%s: bio threads idle: %s" % (name, points))
            if "jemalloc_bg_thd" in threads.values():
                h.check("[jemalloc background thread]" in points, "%s: jemalloc's thread idle: %s" % (name, points))
        client.close()
    finally:
        r.stop()


NGINX_CONF = """daemon off;
master_process on;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "hello\\n"; }} }}
}}
"""


@h.case("nginx-idle")
def test_nginx_idle():
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(exe, os.X_OK):
        h.skip("nginx is not installed (apt-get install nginx)")
    d = h.scratch()
    os.chmod(d, 0o755)   # workers run as nobody when the master is root
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(dir=d, port=port))
    log = open(os.path.join(d, "log"), "w")
    proc = subprocess.Popen([exe, "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")], cwd=d, stdout=log,
                            stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()

    def get():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                return s.recv(4096).decode(errors="replace").endswith("hello\n")
        except OSError:
            return False
    try:
        if not h._wait_until(lambda: get() and len(children(proc.pid)) == 2, 60, 0.1):
            raise h.Failure("nginx did not answer: %s" % open(os.path.join(d, "error.log")).read()[-2000:])
        workers = children(proc.pid)
        result, idle = analyze_idle("nginx master + 2 workers, idle, live --children", str(proc.pid),
                                    "--duration", "0.5", "--children")
        h.check(sorted(idle["pids"]) == sorted([proc.pid] + workers), "one idle finding for the tree: %s" % idle)
        titles = [p.get("title", "") for p in result["processes"]]
        h.check(sum(t.startswith("nginx: worker process") for t in titles) == 2, "process titles %s" % titles)
        for pid, role in ((proc.pid, "master"), (workers[0], "worker")):
            core = os.path.join(d, "%s.core" % role)
            h.snag("dump", pid, "-o", core, check=True)
            for name, target, args in (("nginx %s, idle, live" % role, str(pid), ("--duration", "0.5")),
                                       ("nginx %s, idle, snag dump core" % role, core, ())):
                result, idle = analyze_idle(name, target, *args)
                point = idle["evidence"]["groups"][0]["waits_on"]
                want = "[signal wait]" if role == "master" else "[event loop]"
                h.check(want in point, "%s: %s in %r" % (name, want, point))
        h.check(proc.poll() is None and get(), "nginx still answers after snag")
    finally:
        stop_pid(proc)


@h.case("python-lock-held-in-io")
def test_lock_held_in_io():
    """Debian's python3: a plain Lock held by a thread blocked in a socket read gives one wait chain
    (waiter, probable owner, the socket's peer), live and on a snag dump core; no hang, no deadlock."""
    scenario = os.path.join(h.SCENARIOS, "py_lock_held_in_io.py")
    with h.start_scenario(["/usr/bin/python3", scenario]) as s:
        tids = {t["name"]: t["native_id"] for t in s.truth["threads"]}
        core = os.path.join(s.dir, "core")
        h.snag("dump", s.pid, "-o", core, check=True)
        for target, mode in ((str(s.pid), "live"), (core, "snag dump core")):
            found = loud(analyze(target, "--duration", "0.3"))
            ok = (len(found) == 1 and found[0]["rule"] == "wait-chain" and found[0]["threads"] == [tids["worker"], tids["refresher"]]
                  and "probable owner refresher" in found[0]["message"]
                  and "tcp socket connected to %s" % s.truth["upstream"] in found[0]["message"])
            record("python3 plain Lock held by a thread blocked in a socket read, %s" % mode,
                   "wait-chain: worker -> refresher (probable owner) -> its recv and peer", found, ok)
            h.check(ok, "%s: %s" % (mode, summary(found)))


@h.case("python-threadpool-self-deadlock")
def test_pool_self_deadlock():
    """Debian's python3: a ThreadPoolExecutor(1) task waiting for a task queued behind itself. One
    finding at warning or above naming the pool's worker, whose frame is the application's
    render_page, not the library's Condition.wait or Future.result (nor the worker called idle
    because _worker is below); live and on a snag dump core."""
    scenario = os.path.join(h.SCENARIOS, "py_pool_self_deadlock.py")
    with h.start_scenario(["/usr/bin/python3", scenario]) as s:
        tids = {t["name"]: t["native_id"] for t in s.truth["threads"]}
        worker = [tid for name, tid in tids.items() if name.startswith("pool")]
        core = os.path.join(s.dir, "core")
        h.snag("dump", s.pid, "-o", core, check=True)
        for target, mode in ((str(s.pid), "live"), (core, "snag dump core")):
            found = loud(analyze(target, "--duration", "0.3"))
            f = found[0] if len(found) == 1 else {"threads": [], "frames": []}
            frame = (dict(zip(f["threads"], f["frames"])).get(worker[0]) or {}) if worker else {}
            ok = len(found) == 1 and frame.get("function") == "render_page" and "render_page" in f["message"]
            record("python3 ThreadPoolExecutor(1) self-deadlock, %s" % mode,
                   "one finding naming the pool's worker at render_page", found, ok)
            h.check(ok, "%s: %s; the worker's frame %s" % (mode, summary(found), frame))


REDOS = """
import os, re
EMAIL = re.compile(r"^([a-z]+)+@$")   # compiled before ready: the snapshot must land in the match
def validate_email(text):
    return EMAIL.match(text)
ready = os.environ["SNAG_READY"]
open(ready + ".tmp", "w").write("ready\\n")
os.rename(ready + ".tmp", ready)
validate_email("a" * 64 + "!")
"""


@h.case("python-redos-native-function")
def test_redos():
    with h.start_scenario(["/usr/bin/python3", "-c", REDOS]) as s:
        # Once in ~12 runs on a loaded machine the snapshot's native walk names no C function under
        # validate_email (cause not found yet: a stop inside CPython's signal check between match
        # steps is the suspect); the finding then lacks "in native": look once more.
        for _ in range(2):
            result = analyze(str(s.pid), "--duration", "0.5", "--select", "spiking-thread")
            spiking = [f for f in result["findings"] if f["rule"] == "spiking-thread"]
            if len(spiking) == 1 and "in native sre_" in spiking[0]["message"]:
                break
        h.check(len(spiking) == 1 and "in native sre_" in spiking[0]["message"]
                and "validate_email" in spiking[0]["message"], "spiking-thread: %s" % summary(spiking))


if __name__ == "__main__":
    if "--table" in h.ARGS.rest:
        import atexit
        atexit.register(write_table, h.ARGS.rest[h.ARGS.rest.index("--table") + 1])
    h.main()
