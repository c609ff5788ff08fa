# Native deadlock (for the native-deadlock rule's test): two threads lock two pthread mutexes in
# opposite order through ctypes (CDLL releases the GIL), so the deadlock lives in native space.
# Readiness: writes "ready\n" to $SNAG_READY once both threads are blocked.
import ctypes
import sys
import threading
import time

import _scenario

libc = ctypes.CDLL(None)
mutex_a = ctypes.create_string_buffer(64)  # zeroed: PTHREAD_MUTEX_INITIALIZER
mutex_b = ctypes.create_string_buffer(64)
both_hold = threading.Barrier(2)


def lock_in_order(first, second):
    libc.pthread_mutex_lock(first)
    both_hold.wait()
    libc.pthread_mutex_lock(second)  # blocks forever: the other thread holds it


def main():
    t1 = threading.Thread(target=lock_in_order, args=(mutex_a, mutex_b), name="a-then-b")
    t2 = threading.Thread(target=lock_in_order, args=(mutex_b, mutex_a), name="b-then-a")
    t1.start()
    t2.start()
    time.sleep(0.5)
    _scenario.signal_ready()
    t1.join()


if __name__ == "__main__":
    sys.exit(main())
