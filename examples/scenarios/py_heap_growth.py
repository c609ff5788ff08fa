# Memory leak in Python objects (patterns.md case 5): an audit trail keeps every AuditRecord it
# is given in a list and never drops one. Expected: memory-growth names AuditRecord as the kind
# of object that grows. Ready after SNAG_LEAK_READY_AT batches (default 20) of SNAG_LEAK_BATCH
# records (default 2000), one batch every SNAG_LEAK_INTERVAL seconds (default 0.02).
import os
import time

import _scenario

INTERVAL = float(os.environ.get("SNAG_LEAK_INTERVAL", "0.02"))
READY_AT = int(os.environ.get("SNAG_LEAK_READY_AT", "20"))
BATCH = int(os.environ.get("SNAG_LEAK_BATCH", "2000"))


class AuditRecord(object):
    def __init__(self, n):
        self.n = n
        self.kind = "login"


class AuditTrail(object):
    def __init__(self):
        self.records = []

    def append(self, record):
        self.records.append(record)  # never trimmed: the leak


def record_forever():
    trail = AuditTrail()
    n = 0
    while True:
        for _ in range(BATCH):
            trail.append(AuditRecord(n))
            n += 1
        if n == READY_AT * BATCH:
            _scenario.write_truth(None, leaked_class="AuditRecord", batch=BATCH, interval=INTERVAL)
            _scenario.signal_ready()
        time.sleep(INTERVAL)


if __name__ == "__main__":
    record_forever()
