# Deadlock hidden by a handled exception (patterns.md case 3): update_balance acquires the
# lock, an exception skips the release, the caller logs and swallows it; later the auditor
# blocks on that lock forever. No thread owns the lock any more: the acquirer has exited.
import logging
import os
import threading

import _scenario

log = logging.getLogger("bank")
log.addHandler(logging.FileHandler(os.devnull))  # "logged": quietly, as services do
log.propagate = False
accounts_lock = threading.Lock()
balance = [100]


def update_balance(amount):
    accounts_lock.acquire()
    if balance[0] + amount < 0:
        raise ValueError("balance would go negative")  # skips the release below
    balance[0] += amount
    accounts_lock.release()


def withdraw_worker():
    try:
        update_balance(-1000)
    except ValueError:
        log.exception("withdrawal failed")  # swallowed; the lock stays held


def audit():
    with accounts_lock:  # blocks forever
        return balance[0]


def auditor_worker():
    audit()


def main():
    withdrawer = threading.Thread(target=withdraw_worker, name="withdrawer")
    withdrawer.start()
    withdrawer.join()
    auditor = threading.Thread(target=auditor_worker, name="auditor")
    auditor.daemon = True
    auditor.start()
    _scenario.report_when_parked(expected=2, lock=id(accounts_lock))
    auditor.join()


if __name__ == "__main__":
    main()
