"""Debug files fetched by build-id from a real debuginfod server (issue 13, docs/symbols.md).

A gcore core of py_deadlock_rlock under Debian's python3.11 (libc6-dbg, python3.11-dbg). The
test starts Debian's `debuginfod` on 127.0.0.1 over a directory holding copies of the debug
files this machine has for the core's modules, points SNAG_DEBUG_FILE_DIRECTORY at an empty
directory (nothing local), and checks that `snag bt --json` then shows the same frames, files and
lines as with the files installed, and that the modules say `debuginfod`. A server that accepts
connections but never answers must not hold snag past SNAG_DEBUGINFOD_TIME_LIMIT; the progress
line appears on a terminal only. Every server the test starts is killed on every path.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PYTHON = "/usr/bin/python3.11"
MODULES_LUA = """
for _, m in ipairs(target:modules()) do
  print(string.format("%s\\t%s\\t%s\\t%s", m.path, m.build_id, m.debug_source, m.debug_file or ""))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update(extra)
    return env


def modules(target, env):
    script = os.path.join(h.scratch(), "modules.lua")
    with open(script, "w") as f:
        f.write(MODULES_LUA)
    r = h.run([h.SNAG, "lua", script, target], env=env, timeout=120)
    h.check(r.returncode == 0, "snag lua exited %d: %s" % (r.returncode, r.stderr[-2000:]))
    return [dict(zip(("path", "build_id", "source", "file"), line.split("\t")))
            for line in r.stdout.splitlines() if line.count("\t") == 3]


def bt(target, env, timeout=300):
    start = time.monotonic()
    r = h.run([h.SNAG, "bt", target, "--json"], env=env, timeout=timeout)
    took = time.monotonic() - start
    h.check(r.returncode == 0, "snag bt exited %d: %s" % (r.returncode, r.stderr[-2000:]))
    stacks = json.loads(r.stdout)
    frames = {t["tid"]: [(f.get("function"), f.get("file"), f.get("line")) for f in t["frames"]]
              for t in stacks["threads"]}
    # Warnings go to stderr in text, into "warnings" in JSON.
    return frames, r.stderr + "\n".join(stacks.get("warnings", [])), took


class Server(object):
    """Debian's debuginfod over one directory, on a free 127.0.0.1 port; killed on exit."""

    def __init__(self, directory):
        if not shutil.which("debuginfod"):
            h.skip("debuginfod is not installed (scripts/install-deps test installs it)")
        self.dir = h.scratch()
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["debuginfod", "-F", "--disable-source-scan", "-c", "1", "-t", "0", "-g", "0", "-d", os.path.join(self.dir, "db.sqlite"),
             "-p", str(self.port), directory],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.process = h.Scenario(self.proc, self.dir)
        h._live.append(self.process)  # killed at exit too, whatever path the case takes
        self.url = "http://127.0.0.1:%d" % self.port

    def serves(self, build_id):
        try:
            with urllib.request.urlopen("%s/buildid/%s/debuginfo" % (self.url, build_id), timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_for(self, build_ids, timeout=120):
        """Polls the server until it serves every build-id (its scan of the directory is done)."""
        deadline = time.monotonic() + timeout
        pending = set(build_ids)
        while pending and time.monotonic() < deadline:
            h.check(self.proc.poll() is None, "debuginfod exited %s: %s" % (self.proc.poll(), self.output()))
            pending = set(b for b in pending if not self.serves(b))
            if pending:
                time.sleep(0.2)  # polling the server's own answer, not a fixed wait
        h.check(not pending, "debuginfod does not serve %s after %ds: %s" % (sorted(pending), timeout, self.output()))

    def output(self):
        with open(os.path.join(self.dir, "log"), errors="replace") as f:
            return f.read()[-2000:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.stop()  # the harness's kill of the whole process group
        self.log.close()
        return False


class SilentServer(object):
    """Accepts TCP connections (the kernel's backlog does) and never answers."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        return self

    def __exit__(self, *exc):
        self.sock.close()
        return False


_core = {}


def rlock_core():
    """One gcore core of py_deadlock_rlock and its modules' debug files on this machine."""
    if not os.access(PYTHON, os.X_OK):
        h.skip("%s is not installed" % PYTHON)
    if "path" not in _core:
        with h.py_scenario(PYTHON, "py_deadlock_rlock.py") as sc:
            _core["path"] = h.gcore(sc.pid, os.path.join(h.scratch(), "rlock.core"))
        found = [m for m in modules(_core["path"], clean_env()) if m["source"] in ("build-id", "debuglink")]
        names = [os.path.basename(m["path"]) for m in found]
        if not any(n.startswith("libc.so") for n in names) or "python3.11" not in names:
            h.skip("libc6-dbg and python3.11-dbg are needed (scripts/install-deps test installs them); found %s" % names)
        _core["debug"] = found
    return _core["path"], _core["debug"]


def served_directory(debug):
    """A directory holding copies of the debug files, as a -dbg package tree would."""
    d = h.scratch()
    for m in debug:
        shutil.copy(m["file"], os.path.join(d, m["build_id"] + ".debug"))
    return d


@h.case("frames-and-lines-equal-installed-files")
def frames_equal():
    core, debug = rlock_core()
    installed, _, took_local = bt(core, clean_env())
    empty = h.scratch()
    nothing, _, _ = bt(core, clean_env(SNAG_DEBUG_FILE_DIRECTORY=empty))
    h.check(nothing != installed, "the debug files change nothing: this comparison could not fail")
    with Server(served_directory(debug)) as server:
        server.wait_for([m["build_id"] for m in debug])
        cache = h.scratch()
        env = clean_env(SNAG_DEBUG_FILE_DIRECTORY=empty, DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=cache)
        fetched, err, took_cold = bt(core, env)
        h.check("Downloading" not in err, "progress line printed to a stderr that is no terminal: %s" % err[-500:])
        h.check(fetched == installed, "frames over debuginfod differ from those with the files installed:\n%s\n---\n%s"
                % (json.dumps(fetched)[:3000], json.dumps(installed)[:3000]))
        by_path = {m["path"]: m for m in modules(core, env)}
        for m in debug:
            got = by_path.get(m["path"], {})
            h.check(got.get("source") == "debuginfod" and got.get("file", "").startswith(cache),
                    "%s: debug file %s (%s), expected one fetched into %s" % (m["path"], got.get("file"),
                                                                             got.get("source"), cache))
    # The server is gone: the client's cache answers alone.
    cached, _, took_warm = bt(core, env)
    h.check(cached == installed, "frames from the debuginfod cache differ from those with the files installed")
    frames = sum(len(f) for f in installed.values())
    print("  %d frames, %d debug files; snag bt: %.2fs local, %.2fs fetching, %.2fs from the cache"
          % (frames, len(debug), took_local, took_cold, took_warm))


@h.case("silent-server-stops-at-the-time-limit")
def silent_server():
    core, _ = rlock_core()
    installed, _, _ = bt(core, clean_env())
    with SilentServer() as server:
        env = clean_env(SNAG_DEBUG_FILE_DIRECTORY=h.scratch(), DEBUGINFOD_URLS=server.url,
                        DEBUGINFOD_CACHE_PATH=h.scratch(), SNAG_DEBUGINFOD_TIME_LIMIT="2")
        frames, err, took = bt(core, env, timeout=60)
    h.check(took < 20, "snag bt took %.1fs against a silent server with a 2 s time limit" % took)
    h.check("time limit" in err, "no time-limit warning: %s" % err[-1000:])
    h.check(set(frames) == set(installed), "threads differ: %s vs %s" % (sorted(frames), sorted(installed)))
    print("  snag bt against a silent server, limit 2 s: %.2fs" % took)


@h.case("progress-line-on-a-terminal")
def progress_on_tty():
    core, _ = rlock_core()
    with SilentServer() as server:
        env = dict(SNAG_DEBUG_FILE_DIRECTORY=h.scratch(), DEBUGINFOD_URLS=server.url,
                   DEBUGINFOD_CACHE_PATH=h.scratch(), SNAG_DEBUGINFOD_TIME_LIMIT="3")
        pty = h.Pty([h.SNAG, "bt", core], env_extra=env, timeout=60)
        try:
            pty.expect(r"Downloading separate debug info for /\S+")
            h.check(pty.wait(60) == 0, "snag bt failed on the terminal: %s" % pty.seen[-1000:])
        finally:
            pty.close()


if __name__ == "__main__":
    h.main()
