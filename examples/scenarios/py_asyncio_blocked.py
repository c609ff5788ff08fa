# Event loop blocked: the task "blocker" calls time.sleep() in a coroutine, so the loop never
# runs the three "request-N" tasks it scheduled just before, nor Task-1's timer. Readiness: a
# reporter thread waits until the loop thread sits still, writes the truth, then exits.
import asyncio
import sys
import threading
import time

import _asyncio_truth as truth
import _scenario

BLOCK_LINE = 18


async def blocker():
    for n in range(3):
        asyncio.ensure_future(handle_request(n)).set_name("request-%d" % n)
    time.sleep(3600)  # BLOCK_LINE: the loop's thread blocks here


async def handle_request(n):
    await asyncio.sleep(0)


def report(loop):
    me = threading.current_thread().ident
    threads = _scenario.wait_until_parked(1, exclude=(me,))
    awaits = {"Task-1": ["blocker"]}
    kinds = {"Task-1": "task", "blocker": "running", "request-0": "ready", "request-1": "ready",
             "request-2": "ready"}

    def chain(task):  # the running task's frames are its thread's: blocker has no await
        return truth.await_chain(task)
    _scenario.write_truth(threads, tasks=truth.task_records(loop, awaits, kinds, chain),
                          block_line=BLOCK_LINE, blocker="blocker")
    _scenario.signal_ready()


async def main():
    loop = asyncio.get_running_loop()
    threading.Thread(target=report, args=(loop,), name="snag-reporter", daemon=True).start()
    task = asyncio.ensure_future(blocker())
    task.set_name("blocker")
    await task


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
