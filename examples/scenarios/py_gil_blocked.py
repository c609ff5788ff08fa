# GIL held while blocked (patterns.md case 7): the holder calls a blocking libc function
# through ctypes.PyDLL, which keeps the GIL: system() waits for a shell that never ends. Two
# workers loop on time.sleep and stay stuck in take_gil; main joins. The holder writes the
# truth before its call (its own frame at the call line); the shell writes the ready file once
# the holder is inside system(), then execs a long sleep (a child in the scenario's session).
import ctypes
import sys
import threading
import time

import _scenario

libc = ctypes.PyDLL(None)  # PyDLL: calls do not release the GIL
libc.system.argtypes = [ctypes.c_char_p]
SIGNAL_THEN_BLOCK = (b'if [ -n "$SNAG_READY" ]; then printf "ready\\n" > "$SNAG_READY.tmp" && '
                     b'mv "$SNAG_READY.tmp" "$SNAG_READY"; fi; exec sleep 1000000')


def worker():
    while True: time.sleep(0.001)  # one line: the frame stays here while waiting for the GIL


def hold_gil():
    me = threading.current_thread().ident
    others = _scenario.wait_until_parked(expected=3, exclude=(me,))
    here = sys._getframe().f_lineno
    _scenario.write_truth(others + [_scenario.stack_here(line=here + 2)], holder=me)
    libc.system(SIGNAL_THEN_BLOCK)  # here + 2: blocks in waitpid, holding the GIL


def main():
    threads = [threading.Thread(target=worker, name="worker-%d" % i) for i in range(2)]
    threads.append(threading.Thread(target=hold_gil, name="gil-holder"))
    for t in threads:
        t.daemon = True
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
