# Handle / thread leak (patterns.md case 4): a loop starts a new thread every interval and
# keeps a reference; every thread sleeps in the same stack (serve_connection -> wait_for_data).
# Ready once SNAG_LEAK_READY_AT threads (default 5) exist; the truth lists nothing (the count
# keeps growing) except the interval. Growth stops at SNAG_LEAK_MAX (default 500) threads.
import os
import threading
import time

import _scenario

INTERVAL = float(os.environ.get("SNAG_LEAK_INTERVAL", "1.0"))
READY_AT = int(os.environ.get("SNAG_LEAK_READY_AT", "5"))
MAX_THREADS = int(os.environ.get("SNAG_LEAK_MAX", "500"))
connections = []  # the leak: finished or not, every thread object is kept here
never_closed = threading.Event()


def wait_for_data():
    never_closed.wait()


def serve_connection():
    wait_for_data()


def accept_loop():
    while True:
        if len(connections) < MAX_THREADS:
            t = threading.Thread(target=serve_connection, name="conn-%d" % len(connections))
            t.daemon = True
            t.start()
            connections.append(t)
        if len(connections) == READY_AT:
            _scenario.write_truth(None, interval=INTERVAL, leaked_function="serve_connection")
            _scenario.signal_ready()
        time.sleep(INTERVAL)


if __name__ == "__main__":
    accept_loop()
