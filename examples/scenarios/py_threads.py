# Spiking Thread (patterns.md case 1): three threads run thread_func -> foo -> bar; one loops
# on math.sqrt(2), two sleep; the main thread joins. Expected: the spinning thread is named,
# with bar at the math.sqrt line; the others sleep.
import math
import threading
import time

import _scenario


def bar(spike):
    if spike:
        while True: math.sqrt(2)  # one line: the spinning frame's line never changes
    else:
        while True: time.sleep(3600)


def foo(spike):
    bar(spike)


def thread_func(spike):
    foo(spike)


def main():
    threads = [threading.Thread(target=thread_func, args=(i == 1,), name="worker-%d" % i)
               for i in range(3)]
    for t in threads:
        t.daemon = True
        t.start()
    _scenario.report_when_parked(expected=4)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
