# asyncio await tree three levels deep: main -> 2 "level1-N" -> 2 "level2-N-M" each -> one leaf
# "leaf-N-M-K" per kind of wait (sleep, Event, Lock, Queue, Semaphore, Condition, a socket read,
# a bare Future). 3.11+: main and level1 use TaskGroup, level2 gather; older Pythons gather only.
# Readiness: truth (_asyncio_truth.py) and ready once every task waits on a future.
import asyncio
import socket
import sys

import _asyncio_truth as truth

LEAF_KINDS = ["sleep", "event", "lock", "queue", "semaphore", "condition", "socket", "future"]


class Parking:
    """The things leaves wait on, made inside the running loop (3.8/3.9 bind them to it)."""

    def __init__(self, loop):
        self.event = asyncio.Event()
        self.lock = asyncio.Lock()
        self.queue = asyncio.Queue()
        self.semaphore = asyncio.Semaphore(0)
        self.condition = asyncio.Condition()
        self.future = loop.create_future()
        self.reader_sock, self.writer_sock = socket.socketpair()
        self.reader_sock.setblocking(False)


async def leaf(kind, parking):
    loop = asyncio.get_running_loop()
    if kind == "sleep":
        await asyncio.sleep(3600)
    elif kind == "event":
        await parking.event.wait()
    elif kind == "lock":
        await parking.lock.acquire()
    elif kind == "queue":
        await parking.queue.get()
    elif kind == "semaphore":
        await parking.semaphore.acquire()
    elif kind == "condition":
        async with parking.condition:
            await parking.condition.wait()
    elif kind == "socket":
        await loop.sock_recv(parking.reader_sock, 1)
    else:
        await parking.future


async def level2(n, m, parking, kinds):
    names = ["leaf-%d-%d-%d" % (n, m, k) for k in range(2)]
    children = [asyncio.ensure_future(leaf(kinds[i], parking)) for i in range(2)]
    for task, name in zip(children, names):
        task.set_name(name)
    await asyncio.gather(*children)


async def level1(n, parking, kinds):
    if truth.version_at_least(11):
        async with asyncio.TaskGroup() as tg:
            for m in range(2):
                tg.create_task(level2(n, m, parking, kinds[2 * m:2 * m + 2]), name="level2-%d-%d" % (n, m))
    else:
        children = [asyncio.ensure_future(level2(n, m, parking, kinds[2 * m:2 * m + 2])) for m in range(2)]
        for m, task in enumerate(children):
            task.set_name("level2-%d-%d" % (n, m))
        await asyncio.gather(*children)


async def main():
    loop = asyncio.get_running_loop()
    parking = Parking(loop)
    await parking.lock.acquire()  # held by main: the lock leaf waits
    awaits, kinds = {"Task-1": ["level1-0", "level1-1"]}, {"Task-1": "taskgroup" if truth.version_at_least(11) else "gather"}
    for n in range(2):
        awaits["level1-%d" % n] = ["level2-%d-%d" % (n, m) for m in range(2)]
        kinds["level1-%d" % n] = "taskgroup" if truth.version_at_least(11) else "gather"
        for m in range(2):
            awaits["level2-%d-%d" % (n, m)] = ["leaf-%d-%d-%d" % (n, m, k) for k in range(2)]
            kinds["level2-%d-%d" % (n, m)] = "gather"
            for k in range(2):
                kinds["leaf-%d-%d-%d" % (n, m, k)] = LEAF_KINDS[4 * n + 2 * m + k]
    truth.report_from_loop(loop, 1 + 2 + 4 + 8, awaits, kinds)
    if truth.version_at_least(11):
        async with asyncio.TaskGroup() as tg:
            for n in range(2):
                tg.create_task(level1(n, parking, LEAF_KINDS[4 * n:4 * n + 4]), name="level1-%d" % n)
    else:
        children = [asyncio.ensure_future(level1(n, parking, LEAF_KINDS[4 * n:4 * n + 4])) for n in range(2)]
        for n, task in enumerate(children):
            task.set_name("level1-%d" % n)
        await asyncio.gather(*children)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
