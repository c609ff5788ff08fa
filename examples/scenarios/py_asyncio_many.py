# 10,000 idle tasks (SNAG_TASKS overrides the count), "idle-N", each waiting on one Event that
# nobody sets; main (Task-1) gathers them, or with SNAG_DETACHED=1 leaves them to themselves
# (fire-and-forget: nothing awaits them) and waits on the Event too. Readiness: truth and ready
# once all of them wait.
import asyncio
import sys

import _asyncio_truth as truth

COUNT = truth.env_int("SNAG_TASKS", 10000)
DETACHED = truth.env_int("SNAG_DETACHED", 0) == 1


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
    kinds["Task-1"] = "event" if DETACHED else "gather"
    truth.report_from_loop(loop, COUNT + 1, {} if DETACHED else {"Task-1": names}, kinds, count=COUNT)
    if DETACHED:
        await event.wait()
    else:
        await asyncio.gather(*children)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
