# A process that changes under a debugger's feet, for the live-fault tests (issue 12, item 5):
#   fork     forks a child that exits at once, over and over (the parent stays one process)
#   threads  starts threads that exit at once, over and over (tids vanish between listing and reading)
#   exec     re-executes itself every few milliseconds (the same PID, a new image each time)
# Ready ($SNAG_READY) after the first round; in exec mode the first image writes it.
import os
import sys
import threading
import time

import _scenario

MODE = sys.argv[1] if len(sys.argv) > 1 else "fork"


def fork_forever():
    while True:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)


def threads_forever():
    while True:
        batch = [threading.Thread(target=time.sleep, args=(0.001,)) for _ in range(4)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()


def exec_forever():
    time.sleep(0.005)
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "exec", "again"])


if __name__ == "__main__":
    if sys.argv[2:] != ["again"]:
        _scenario.write_truth(None, mode=MODE)
        _scenario.signal_ready()
    {"fork": fork_forever, "threads": threads_forever, "exec": exec_forever}[MODE]()
