# Crash (patterns.md case 8): the "crasher" thread faults while main joins it. Modes (argv[1]):
#   segv   ctypes.string_at(0): SIGSEGV at address 0 inside ctypes' memmove
#   abort  os.abort(): SIGABRT, a runtime abort
#   fatal  Py_FatalError through ctypes.pythonapi: a fatal Python error (SIGABRT)
# Before crashing it writes the truth (main's stack; the crasher's frames from crash_<mode>
# outward, with the crash line; library frames above it are not listed: "partial_top") and
# ready.
# With $SNAG_TRIGGER set it waits for that file to exist first (so a tracer can attach).
import ctypes
import os
import sys
import threading
import time

import _scenario


def wait_for_trigger():
    trigger = os.environ.get("SNAG_TRIGGER")
    while trigger and not os.path.exists(trigger):
        time.sleep(0.01)


def announce(line):
    me = _scenario.stack_here(depth=2, line=line)
    main_thread = _scenario.wait_until_parked(expected=1, exclude=(me["ident"],))
    _scenario.write_truth(main_thread + [me], partial_top=True, mode=sys.argv[1],
                          crasher=me["ident"])
    _scenario.signal_ready()
    wait_for_trigger()


def crash_segv():
    announce(sys._getframe().f_lineno + 1)
    ctypes.string_at(0)


def crash_abort():
    announce(sys._getframe().f_lineno + 1)
    os.abort()


def crash_fatal():
    announce(sys._getframe().f_lineno + 1)
    ctypes.pythonapi.Py_FatalError(b"snag scenario: fatal error requested")


def crasher(mode):
    {"segv": crash_segv, "abort": crash_abort, "fatal": crash_fatal}[mode]()


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("segv", "abort", "fatal"):
        sys.stderr.write("usage: py_crash.py segv|abort|fatal\n")
        sys.exit(2)
    t = threading.Thread(target=crasher, args=(sys.argv[1],), name="crasher")
    t.start()
    t.join()


if __name__ == "__main__":
    main()
