# A working process that looks blocked at a glance: the main thread reads a regular file over and
# over (each stop lands right after a read or an openat returned), while a worker waits for a
# shutdown Event that nobody sets yet, as services do. Not a hang: blocked-threads must stay silent;
# counting the reader as "waiting for read" made it report the worker as stuck.
import os
import tempfile
import threading

import _scenario

shutdown = threading.Event()


def housekeeper():
    shutdown.wait()  # parked until the service stops


def checksum_forever(path):
    total = 0
    while True:
        fd = os.open(path, os.O_RDONLY)  # openat
        try:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                total += chunk[0]
        finally:
            os.close(fd)


def main():
    ready = os.environ.get("SNAG_READY")
    where = os.path.dirname(ready) if ready else None  # the test's scratch directory, removed with it
    data = tempfile.NamedTemporaryFile(prefix="snag-file-reader-", dir=where, delete=False)
    data.write(os.urandom(1 << 20) * 16)  # 16 MiB, page-cached after the first pass
    data.close()
    worker = threading.Thread(target=housekeeper, name="housekeeper", daemon=True)
    worker.start()
    me = threading.main_thread().ident
    parked = _scenario.wait_until_parked(1, exclude=(me,))
    _scenario.write_truth(parked, data=data.name)
    _scenario.signal_ready()
    try:
        checksum_forever(data.name)
    finally:
        os.unlink(data.name)


if __name__ == "__main__":
    main()
