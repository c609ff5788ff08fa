# multiprocessing.Pool where one worker spins in a pure Python loop (a retry loop whose exit
# condition never comes true) while the others finished their tasks and sit idle. The parent
# waits until the spinning worker has started (it writes its pid to a marker), writes the truth
# ({"spinning_pid", "worker_pids"}; no thread stacks, the pool's helper threads keep moving)
# and ready, then blocks on the stuck result. SNAG_POOL_WORKERS workers (default 5).
import multiprocessing
import os
import tempfile
import time

import _scenario

WORKERS = int(os.environ.get("SNAG_POOL_WORKERS", "5"))


def square(n):
    return n * n


def settled(balance):
    return balance < 0.0  # never true for the sums below: the bug


def reconcile_forever(marker):
    with open(marker + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(marker + ".tmp", marker)
    balance = 0.0
    while not settled(balance):  # the stuck worker spins here
        balance = (balance + 0.1) % 3.0


def main():
    scratch = os.path.dirname(os.environ.get("SNAG_READY", "")) or None
    work = tempfile.mkdtemp(prefix="snag-pool-busy-", dir=scratch)
    marker = os.path.join(work, "spinning.pid")
    pool = multiprocessing.Pool(WORKERS)
    quick = [pool.apply_async(square, (n,)) for n in range(WORKERS - 1)]
    assert [r.get(timeout=60) for r in quick] == [n * n for n in range(WORKERS - 1)]
    stuck = pool.apply_async(reconcile_forever, (marker,))
    deadline = time.time() + 60
    while not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.01)
    with open(marker) as f:
        spinning = int(f.read())
    _scenario.write_truth(None, spinning_pid=spinning, worker_pids=sorted(p.pid for p in pool._pool))
    _scenario.signal_ready()
    stuck.get()


if __name__ == "__main__":
    main()
