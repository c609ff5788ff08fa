# 10,000 idle tasks (SNAG_TASKS overrides the count), "idle-N", each waiting on one Event that
# nobody sets; main (Task-1) gathers them. Readiness: truth and ready once all of them wait.
import asyncio
import sys

import _asyncio_truth as truth

COUNT = truth.env_int("SNAG_TASKS", 10000)


async def idle_connection(event):
    await event.wait()


async def main():
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    children = []
    for n in range(COUNT):
        task = asyncio.ensure_future(idle_connection(event))
        task.set_name("idle-%d" % n)
        children.append(task)
    names = [t.get_name() for t in children]
    kinds = dict((n, "event") for n in names)
    kinds["Task-1"] = "gather"
    truth.report_from_loop(loop, COUNT + 1, {"Task-1": names}, kinds, count=COUNT)
    await asyncio.gather(*children)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
