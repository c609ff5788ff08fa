# Benchmark target: BENCH_THREADS (200) threads, each BENCH_DEPTH (30) Python frames deep,
# parked on an Event; a "timestamper" thread wakes every millisecond and appends every gap
# longer than BENCH_GAP_MS (2 ms) to $BENCH_GAPS as "<monotonic end> <gap seconds>": a tool
# that stops the process shows up as one long gap (time.monotonic is CLOCK_MONOTONIC, the
# clock bench/run reads too). Writes "ready\n" to $SNAG_READY once every thread is parked.
import os
import sys
import threading
import time

THREADS = int(os.environ.get("BENCH_THREADS", "200"))
DEPTH = int(os.environ.get("BENCH_DEPTH", "30"))
GAP = float(os.environ.get("BENCH_GAP_MS", "2")) / 1000.0
never = threading.Event()
parked = threading.Semaphore(0)


def level(n, payload):
    if n <= 1:
        parked.release()
        never.wait()
        return payload
    return level(n - 1, payload + 1)


def timestamper(path):
    out = open(path, "a", buffering=1)
    last = time.monotonic()
    while True:
        time.sleep(0.001)
        now = time.monotonic()
        if now - last > GAP:
            out.write("%.6f %.6f\n" % (now, now - last))
        last = now


def main():
    threading.stack_size(0)
    # level() is called DEPTH - 2 deep: with run() and _bootstrap_inner/_bootstrap ~DEPTH frames
    for i in range(THREADS):
        t = threading.Thread(target=level, args=(DEPTH - 3, 0), name="bench-%03d" % i)
        t.daemon = True
        t.start()
    for _ in range(THREADS):
        parked.acquire()
    if os.environ.get("BENCH_GAPS"):
        t = threading.Thread(target=timestamper, args=(os.environ["BENCH_GAPS"],),
                             name="timestamper")
        t.daemon = True
        t.start()
    time.sleep(0.2)  # let the last threads move from release() into wait()
    ready = os.environ.get("SNAG_READY")
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(ready + ".tmp", ready)
    never.wait()


if __name__ == "__main__":
    sys.exit(main())
