# Lock states read from the target: every Lock/RLock state is known to the scenario and checked
# against what snag shows. `wait` (default): "waiter" blocks on held_lock (main holds it) and
# "rwaiter" on the RLock "owner" holds twice. `sleep`: nobody waits, every thread sleeps with a
# held and a free lock in its locals (a process that only sleeps: no hang, no deadlock).
import sys
import threading

import _scenario

held_lock = threading.Lock()
free_lock = threading.Lock()
rlock = threading.RLock()
owner_ready = threading.Event()


def owner():
    with rlock:
        with rlock:  # count 2
            owner_ready.set()
            _scenario.park_forever()


def waiter():
    held_lock.acquire()  # blocks: main holds it


def rwaiter():
    rlock.acquire()  # blocks: owner holds it


def sleeper(held, free, rheld):
    _scenario.park_forever()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "wait"
    held_lock.acquire()
    threads = [threading.Thread(target=owner, name="owner")]
    if mode == "wait":
        threads += [threading.Thread(target=waiter, name="waiter"), threading.Thread(target=rwaiter, name="rwaiter")]
    else:
        threads.append(threading.Thread(target=sleeper, args=(held_lock, free_lock, rlock), name="sleeper"))
    threads[0].daemon = True
    threads[0].start()
    owner_ready.wait()
    for t in threads[1:]:
        t.daemon = True
        t.start()
    _scenario.report_when_parked(expected=len(threads) + 1, mode=mode,
                                 locks={"held_lock": id(held_lock), "free_lock": id(free_lock), "rlock": id(rlock)})
    _scenario.park_forever()


if __name__ == "__main__":
    main()
