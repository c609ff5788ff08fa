# Deadlock with plain Locks (patterns.md case 2, variant): two threading.Locks taken in
# opposite order by two threads; the main thread joins forever. A Lock records no owner: each
# one's probable owner is the thread whose `with` block on it is open, so the report is a
# "probable deadlock" (evidence.confirmed = false).
# Each thread takes its first lock, waits until the other holds its own (events, not sleeps:
# the deadlock is certain), then takes the second.
import threading

import _scenario

lock_a = threading.Lock()
lock_b = threading.Lock()
holds_a = threading.Event()
holds_b = threading.Event()


def transfer_a_to_b():
    with lock_a:
        holds_a.set()
        holds_b.wait()
        with lock_b:  # blocks: T2 owns lock_b
            pass


def transfer_b_to_a():
    with lock_b:
        holds_b.set()
        holds_a.wait()
        with lock_a:  # blocks: T1 owns lock_a
            pass


def main():
    t1 = threading.Thread(target=transfer_a_to_b, name="T1")
    t2 = threading.Thread(target=transfer_b_to_a, name="T2")
    for t in (t1, t2):
        t.daemon = True
        t.start()
    _scenario.report_when_parked(expected=3, locks={"lock_a": id(lock_a), "lock_b": id(lock_b)})
    t1.join()
    t2.join()


if __name__ == "__main__":
    main()
