"""`snag repl` through a pseudo-terminal (python3's pty module drives libedit like a user).

- tab completion of a command prefix (`outp<TAB>` -> `output`, a user-defined name too)
- history recall with Ctrl-P, and the history file ($SNAG_HISTORY) written on exit
- a multi-line `define` with the continuation prompt, then calling it
- Ctrl-C during a long command (`while 1`) returns to the prompt; the next command works;
  Ctrl-C at the prompt drops the line being typed
- completion of multi-word stdlib commands (`info thr<TAB>`); Lua lines and multi-line chunks
- Ctrl-D leaves; a live target keeps running (not stopped, not traced)
- long output goes through $PAGER on a terminal, short output does not
- stdin that is not a terminal: lines are read without prompts (scriptable)
"""
import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

_opts = argparse.ArgumentParser()
_opts.add_argument("--native-threads", default=None)
OPTS = _opts.parse_args(h.ARGS.rest)
EXE = OPTS.native_threads or h.scenario_bin("native_threads")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r|\x07")
PROMPT = "(snag) "


class Repl:
    """snag repl on a pty; expect() waits for a regex in the cleaned-up output."""

    def __init__(self, target, history, rows=60, pager="cat"):
        env = dict(os.environ, TERM="xterm", PAGER=pager, SNAG_HISTORY=history, HOME=h.scratch())
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(h.SNAG, [h.SNAG, "repl", target], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 160, 0, 0))
        self.seen = ""
        self.pos = 0

    def _read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        self.seen += ANSI.sub("", data.decode("utf-8", "replace"))
        return True

    def expect(self, pattern, timeout=20):
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.seen, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.time()
            if left <= 0 or not self._read(min(left, 0.5)) and self.exited():
                m = rx.search(self.seen, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise h.Failure("expected %r; output since last match:\n%s" % (pattern, self.seen[self.pos:]))

    def send(self, text):
        os.write(self.fd, text.encode())

    def line(self, text):
        self.send(text + "\r")

    def exited(self):
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid:
            self.status = status
            return True
        return False

    def wait(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if hasattr(self, "status") or self.exited():
                while self._read(0.1):
                    pass
                return os.waitstatus_to_exitcode(self.status)
            self._read(0.2)
        raise h.Failure("snag repl did not exit; output:\n%s" % self.seen[-2000:])

    def close(self):
        if not hasattr(self, "status") and not self.exited():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


_core = {}


def core():
    if "path" not in _core:
        if not EXE or not os.access(EXE, os.X_OK):
            h.skip("native_threads scenario binary not built")
        if not h.has_subcommand("repl"):
            h.skip("this snag build has no repl subcommand")
        with h.start_scenario([EXE]) as sc:
            _core["path"] = h.gcore(sc.pid, os.path.join(h.scratch(), "native_threads.core"))
    return _core["path"]


@h.case("completion, history, multi-line define, Ctrl-C, Ctrl-D on a core")
def test_interactive():
    history = os.path.join(h.scratch(), "history")
    r = Repl(core(), history)
    try:
        r.expect(re.escape(PROMPT))
        # Completion of a built-in command prefix.
        r.send("outp\t")
        r.expect("output")
        r.line(" 6*7")
        r.expect(r"42")
        r.expect(re.escape(PROMPT))
        # History: Ctrl-P brings back the last line.
        r.line("p 123")
        r.expect(r"\$1 = 123")
        r.expect(re.escape(PROMPT))
        r.send("\x10")
        r.expect(r"p 123")
        r.send("\r")
        r.expect(r"\$2 = 123")
        r.expect(re.escape(PROMPT))
        # A multi-line define: continuation prompt until `end`.
        r.line("define twice")
        r.expect(r"\n>")
        r.line("  p $arg0 * 2")
        r.expect(r"\n>")
        r.line("end")
        r.expect(re.escape(PROMPT))
        r.send("twi\t")
        r.expect("twice")
        r.line(" 21")
        r.expect(r"\$3 = 42")
        r.expect(re.escape(PROMPT))
        # Ctrl-C stops a loop that never ends on its own; the next command still works.
        r.line("set $n = 0")
        r.expect(re.escape(PROMPT))
        r.line("while 1")
        r.expect(r"\n>")
        r.line("set $n = $n + 1")
        r.expect(r"\n>")
        r.line("end")
        time.sleep(0.5)
        started = time.time()
        r.send("\x03")
        r.expect(r"Quit|interrupted")
        r.expect(re.escape(PROMPT))
        h.check(time.time() - started < 5, "Ctrl-C took %.1fs" % (time.time() - started))
        r.line("p $n > 100")
        r.expect(r"\$4 = 1")
        r.expect(re.escape(PROMPT))
        # Multi-word stdlib commands complete word by word.
        r.send("info thr\t")
        r.expect("info threads")
        r.line("")
        r.expect(r"LWP")
        r.expect(re.escape(PROMPT))
        # Lua: an expression line, and a chunk that continues until Lua sees it complete.
        r.line("=6*7")
        r.expect(r"\n42")
        r.expect(re.escape(PROMPT))
        r.line("lua for i = 1, 2 do")
        r.expect(r"\n>")
        r.line("print('item', i)")
        r.expect(r"\n>")
        r.line("end")
        r.expect(r"item\s+1\s*\n\s*item\s+2")
        r.expect(re.escape(PROMPT))
        # Ctrl-C at the prompt drops the half-typed line.
        r.send("p 99999")
        r.send("\x03")
        r.expect(re.escape(PROMPT))
        r.line("p 7")
        r.expect(r"\$\d+ = 7")
        h.check("= 99999" not in r.seen, "the interrupted line ran")
        r.expect(re.escape(PROMPT))
        # Ctrl-D leaves.
        r.send("\x04")
        code = r.wait()
        h.check(code == 0, "exit status %d" % code)
    finally:
        r.close()
    with open(history, errors="replace") as f:
        # libedit stores lines vis(3)-encoded: a blank is \040.
        saved = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), f.read())
    h.check("p 123" in saved and "define twice" in saved, "history file lacks the lines: %r" % saved[-500:])


@h.case("Ctrl-D on a live target leaves it running")
def test_live_exit():
    core()  # skips when the scenario or the subcommand is missing
    with h.start_scenario([EXE]) as sc:
        r = Repl(str(sc.pid), os.path.join(h.scratch(), "history"))
        try:
            r.expect(re.escape(PROMPT), timeout=60)
            r.line("p $pc")
            r.expect(r"\$1 = \(void \(\*\)\(\)\) 0x")
            r.expect(re.escape(PROMPT))
            r.send("\x04")
            code = r.wait()
            h.check(code == 0, "exit status %d" % code)
        finally:
            r.close()
        with open("/proc/%d/status" % sc.pid) as f:
            status = f.read()
        tracer = re.search(r"TracerPid:\s+(\d+)", status).group(1)
        state = re.search(r"State:\s+(\S)", status).group(1)
        h.check(tracer == "0", "still traced by %s" % tracer)
        h.check(state not in "tT", "process left stopped (state %s)" % state)
        for tid in h.tasks(sc.pid):
            with open("/proc/%d/task/%d/status" % (sc.pid, tid)) as f:
                s = re.search(r"State:\s+(\S)", f.read()).group(1)
            h.check(s not in "tT", "thread %d left stopped (state %s)" % (tid, s))


@h.case("output longer than the terminal goes through $PAGER")
def test_pager():
    r = Repl(core(), os.path.join(h.scratch(), "history"), rows=10, pager="sed s/^/PAGED:/")
    try:
        r.expect(re.escape(PROMPT))
        r.line("x/64xg $rsp")
        r.expect(r"PAGED:0x[0-9a-f]+:\t0x")
        r.expect(re.escape(PROMPT))
        r.line("p 5")
        r.expect(r"\n\$1 = 5")
        h.check("PAGED:$1" not in r.seen, "short output was paged")
        r.send("\x04")
        h.check(r.wait() == 0, "bad exit")
    finally:
        r.close()


@h.case("piped stdin: no prompts, blocks still work")
def test_piped():
    script = "define sq\n  p $arg0 * $arg0\nend\nsq 12\necho done\\n\n"
    import subprocess
    out = subprocess.run([h.SNAG, "repl", core()], input=script, capture_output=True, text=True, timeout=120)
    h.check(out.returncode == 0, "exit %d: %s" % (out.returncode, out.stderr))
    h.check(out.stdout == "$1 = 144\ndone\n", "stdout %r" % out.stdout)


if __name__ == "__main__":
    h.main()
