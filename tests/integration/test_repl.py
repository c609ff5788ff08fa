"""`snag repl` through a pseudo-terminal (python3's pty module drives libedit like a user).

- tab completion of a command prefix (`outp<TAB>` -> `output`, a user-defined name too)
- history recall with Ctrl-P, and the history file ($SNAG_HISTORY) written on exit
- a multi-line `define` with the continuation prompt, then calling it
- Ctrl-C during a long command (`while 1`) returns to the prompt; the next command works;
  Ctrl-C at the prompt drops the line being typed
- completion of multi-word stdlib commands (`info thr<TAB>`); Lua lines and multi-line chunks
- `$<TAB>`: registers and convenience variables (`$ans<TAB>` after `set $answer`), never C symbols
- `help`: every summary a whole sentence
- completion of arguments: symbol names (`info symbol spin_fo<TAB>`, `break *pthread_mutex_unlo`,
  `x/2ga &parked_cou`), Python function names (`py-frame mai<TAB>`) and locals (`py-print thr`)
- Ctrl-D leaves; a live target keeps running (not stopped, not traced)
- long output goes through $PAGER on a terminal, short output does not
- stdin that is not a terminal: lines are read without prompts (scriptable)
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EXE = h.ARGS.native_threads or h.scenario_bin("native_threads")
PROMPT = "(snag) "


class Repl(h.Pty):
    """snag repl TARGET on a pty, with its own history file and $HOME; the steps a user takes."""

    def __init__(self, target, history, rows=60, pager="cat"):
        env = {"PAGER": pager, "SNAG_HISTORY": history, "HOME": h.scratch()}
        super().__init__([h.SNAG, "repl", target], env_extra=env, rows=rows)

    def prompt(self, timeout=None):
        self.expect(re.escape(PROMPT), timeout)

    def run(self, line, answer):
        """Enter LINE, wait for ANSWER (a regex), then for the prompt."""
        self.line(line)
        self.expect(answer)
        self.prompt()

    def complete(self, typed, completed):
        """Type TYPED and Tab; wait for the line to read COMPLETED (a regex)."""
        self.send(typed + "\t")
        self.expect(completed)

    def continued(self, *lines):
        """Enter each line at a continuation prompt (a block's body; the caller ends it)."""
        for line in lines:
            self.line(line)
            self.expect(r"\n>")

    def leave(self):
        """Ctrl-D: snag exits with status 0."""
        self.send("\x04")
        code = self.wait()
        h.check(code == 0, "exit status %d" % code)


def core():
    return h.native_threads_core(EXE, "repl")


@h.case("completion, history, multi-line define, Ctrl-C, Ctrl-D on a core")
def test_interactive():
    history = os.path.join(h.scratch(), "history")
    r = Repl(core(), history)
    try:
        r.prompt()
        # Completion of a built-in command prefix.
        r.complete("outp", "output")
        r.run(" 6*7", r"42")
        # History: Ctrl-P brings back the last line.
        r.run("p 123", r"\$1 = 123")
        r.send("\x10")
        r.expect(r"p 123")
        r.send("\r")
        r.expect(r"\$2 = 123")
        r.prompt()
        # A multi-line define: continuation prompt until `end`.
        r.continued("define twice", "  p $arg0 * 2")
        r.line("end")
        r.prompt()
        r.complete("twi", "twice")
        r.run(" 21", r"\$3 = 42")
        # Ctrl-C stops a loop that never ends on its own; the next command still works.
        r.line("set $n = 0")
        r.prompt()
        r.continued("while 1", "set $n = $n + 1")
        r.line("end")
        time.sleep(0.5)
        started = time.time()
        r.send("\x03")
        r.expect(r"Quit|interrupted")
        r.prompt()
        h.check(time.time() - started < 5, "Ctrl-C took %.1fs" % (time.time() - started))
        r.run("p $n > 100", r"\$4 = 1")
        # `$` completes registers and convenience variables, never C symbols ($rsplit...).
        r.send("x/2gx $rs\t\t")
        r.expect(r"\$rsi\s+\$rsp")
        r.expect(re.escape(PROMPT + "x/2gx $rs"))  # the listing reprints the line
        h.check("rsplit" not in r.seen, "$rs<TAB> offered C symbols")
        r.send("\x03")
        r.prompt()
        r.line("set $answer = 42")
        r.prompt()
        r.complete("p $ans", r"p \$answer")
        r.run("", r"\$5 = 42")
        # Multi-word stdlib commands complete word by word.
        r.complete("info thr", "info threads")
        r.run("", r"LWP")
        # Lua: an expression line, and a chunk that continues until Lua sees it complete.
        r.run("=6*7", r"\n42")
        r.continued("lua for i = 1, 2 do", "print('item', i)")
        r.run("end", r"item\s+1\s*\n\s*item\s+2")
        # Ctrl-C at the prompt drops the half-typed line.
        r.send("p 99999")
        r.send("\x03")
        r.prompt()
        r.line("p 7")
        r.expect(r"\$\d+ = 7")
        h.check("= 99999" not in r.seen, "the interrupted line ran")
        r.prompt()
        # Ctrl-D leaves.
        r.leave()
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
            r.prompt(timeout=60)
            r.run("p $pc", r"\$1 = \(void \(\*\)\(\)\) 0x")
            r.leave()
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
        r.prompt()
        r.run("x/64xg $rsp", r"PAGED:0x[0-9a-f]+:\t0x")
        r.line("p 5")
        r.expect(r"\n\$1 = 5")
        h.check("PAGED:$1" not in r.seen, "short output was paged")
        r.leave()
    finally:
        r.close()


@h.case("tab completion of symbol names (break, info symbol, x &SYM)")
def test_symbol_completion():
    r = Repl(core(), os.path.join(h.scratch(), "history"))
    try:
        r.prompt()
        # A function of the scenario's own executable, then the stdlib command runs with it.
        r.complete("info symbol spin_fo", "spin_forever")
        r.run("", r"spin_forever in section \.text of \S*native_threads")
        # The command after `thread apply ID...` completes its argument as it would alone.
        r.complete("thread apply 1 2 info symbol parked_cou", "parked_count")
        r.send("\x03")
        r.prompt()
        # A libc symbol after `break *` (the operator stays), then the line is dropped (a core
        # takes no breakpoints; only the completed text matters).
        r.complete("break *pthread_mutex_unlo", r"\*pthread_mutex_unlock")
        r.send("\x03")
        r.prompt()
        # A data symbol after x/FMT and the address operator: x is the command language's own.
        r.complete("x/2ga &parked_cou", "parked_count")
        r.run("", r"0x[0-9a-f]+ <parked_count>:")
        r.leave()
    finally:
        r.close()


def python_core():
    interps = [i for i in h.interpreters() if i.label == "debian-3.11"] or h.interpreters()
    if not interps:
        h.skip("no CPython on this machine")
    with h.py_scenario(interps[0], "py_threads.py") as s:
        return h.gcore(s.pid, os.path.join(h.scratch(), "py_threads.core"))


@h.case("tab completion of Python function and local names (py-frame, py-print)")
def test_python_completion():
    core()  # skips when the subcommand is missing
    r = Repl(python_core(), os.path.join(h.scratch(), "history"))
    try:
        r.prompt()
        # Thread 1 is the main thread: main() joins the workers (Thread.join and below).
        r.complete("py-frame mai", "py-frame main")
        r.run("", r"#\d+ Frame 0x[0-9a-f]+, for file \S*py_threads\.py, line \d+, in main \(")
        # The locals of the frame py-frame selected: `threads` (the list of workers).
        r.complete("py-print thr", "py-print threads")
        r.run("", r"local 'threads' = \[<Thread")
        r.leave()
    finally:
        r.close()


@h.case("help lists each command with a whole sentence")
def test_help_sentences():
    out = subprocess.run([h.SNAG, "repl", core()], input="help\n", capture_output=True, text=True, timeout=120)
    entries = [l for l in out.stdout.splitlines() if " -- " in l]
    h.check(len(entries) > 20, "help listed %d commands: %s" % (len(entries), out.stdout[-500:]))
    cut = [l for l in entries if not re.search(r"[.)]$", l.split(" (live processes only)")[0])]
    h.check(not cut, "summaries cut mid-sentence:\n%s" % "\n".join(cut))


@h.case("piped stdin: no prompts, blocks still work")
def test_piped():
    script = "define sq\n  p $arg0 * $arg0\nend\nsq 12\necho done\\n\n"
    out = subprocess.run([h.SNAG, "repl", core()], input=script, capture_output=True, text=True, timeout=120)
    h.check(out.returncode == 0, "exit %d: %s" % (out.returncode, out.stderr))
    h.check(out.stdout == "$1 = 144\ndone\n", "stdout %r" % out.stdout)


if __name__ == "__main__":
    h.main()
