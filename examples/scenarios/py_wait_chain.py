# Wait Chain without a cycle (for the wait-chain rule's test): "holder" takes an RLock and then
# waits for an Event nobody sets; "waiter" blocks on that RLock. The chain is waiter -> holder,
# ending at holder in Event.wait. Readiness: writes "ready\n" to $SNAG_READY once both are parked.
import sys
import threading
import time

import _scenario

ledger_lock = threading.RLock()
never = threading.Event()
holder_parked = threading.Event()


def hold_and_wait():
    with ledger_lock:
        holder_parked.set()
        never.wait()


def post_entry():
    holder_parked.wait()
    with ledger_lock:
        pass


def main():
    holder = threading.Thread(target=hold_and_wait, name="holder")
    waiter = threading.Thread(target=post_entry, name="waiter")
    holder.start()
    waiter.start()
    time.sleep(0.5)  # let waiter reach the acquire; it cannot get past it
    _scenario.signal_ready()
    holder.join()


if __name__ == "__main__":
    sys.exit(main())
