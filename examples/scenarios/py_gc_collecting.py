# A garbage collection that stops in a finalizer: thread "collector" calls gc.collect(), which
# finds a reference cycle whose object's __del__ parks (in time.sleep, so without the GIL). The
# main thread and "bystander" park too, outside any collection. The truth's "collector" names
# the thread running the collection; only that thread is collecting garbage.
import gc
import sys
import threading
import time

import _scenario

finalizing = threading.Event()


class Parks:
    def __init__(self):
        self.me = self  # a cycle: only the collector frees it

    def __del__(self):
        finalizing.set()
        while True:
            time.sleep(3600)


def collect():
    Parks()
    gc.collect()


def bystander():
    _scenario.park_forever()


def main():
    gc.disable()  # no automatic collection on another thread first
    threading.Thread(target=bystander, name="bystander").start()
    collector = threading.Thread(target=collect, name="collector")
    collector.daemon = True
    collector.start()
    finalizing.wait()
    _scenario.report_when_parked(expected=3, collector=collector.ident)
    _scenario.park_forever()


if __name__ == "__main__":
    sys.exit(main())
