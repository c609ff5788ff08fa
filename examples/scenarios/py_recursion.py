# Deep recursion: descend(n) recurses SNAG_DEPTH (default 500) levels on a worker thread, then
# parks; main joins. The stack has ~500 Python frames of one function at the same line.
import os
import sys
import threading

import _scenario

DEPTH = int(os.environ.get("SNAG_DEPTH", "500"))
never = threading.Event()


def descend(n):
    if n == 0:
        never.wait()
        return 0
    return descend(n - 1) + 1


def main():
    sys.setrecursionlimit(DEPTH + 200)
    t = threading.Thread(target=descend, args=(DEPTH,), name="recursive")
    t.daemon = True
    t.start()
    _scenario.report_when_parked(expected=2, depth=DEPTH)
    t.join()


if __name__ == "__main__":
    main()
