# multiprocessing.Pool where one worker loops forever re-reading the same file while the others
# finished their tasks and sit idle. The parent waits until the looping worker has started
# (it writes its pid to a marker), writes the truth ({"looping_pid", "worker_pids"}, no thread
# stacks: the pool's helper threads keep moving) and ready, then blocks on the stuck result.
import multiprocessing
import os
import tempfile
import time

import _scenario

WORKERS = int(os.environ.get("SNAG_POOL_WORKERS", "4"))


def square(n):
    return n * n


def reread_forever(path, marker):
    with open(marker + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(marker + ".tmp", marker)
    while True:
        with open(path) as f:  # the same file, over and over: the stuck worker
            f.read()


def main():
    scratch = os.path.dirname(os.environ.get("SNAG_READY", "")) or None
    work = tempfile.mkdtemp(prefix="snag-pool-", dir=scratch)
    config = os.path.join(work, "config.ini")
    with open(config, "w") as f:
        f.write("[pool]\nsize = %d\n" % WORKERS)
    marker = os.path.join(work, "looping.pid")
    pool = multiprocessing.Pool(WORKERS)
    quick = [pool.apply_async(square, (n,)) for n in range(WORKERS - 1)]
    assert [r.get(timeout=60) for r in quick] == [n * n for n in range(WORKERS - 1)]
    stuck = pool.apply_async(reread_forever, (config, marker))
    deadline = time.time() + 60
    while not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.01)
    with open(marker) as f:
        looping = int(f.read())
    _scenario.write_truth(None, looping_pid=looping, file=config,
                          worker_pids=sorted(p.pid for p in pool._pool))
    _scenario.signal_ready()
    stuck.get()


if __name__ == "__main__":
    main()
