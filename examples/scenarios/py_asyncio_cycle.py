# asyncio await cycle: "cycle-a" awaits "cycle-b" and "cycle-b" awaits "cycle-a" (a deadlock
# without threads); main (Task-1) awaits cycle-a. Readiness: truth and ready once all three wait.
import asyncio
import sys

import _asyncio_truth as truth

tasks = {}


async def settle_account():
    await tasks["b"]


async def refresh_balance():
    await tasks["a"]


async def main():
    loop = asyncio.get_running_loop()
    awaits = {"Task-1": ["cycle-a"], "cycle-a": ["cycle-b"], "cycle-b": ["cycle-a"]}
    kinds = {"Task-1": "task", "cycle-a": "task", "cycle-b": "task"}
    tasks["a"] = asyncio.ensure_future(settle_account())
    tasks["a"].set_name("cycle-a")
    tasks["b"] = asyncio.ensure_future(refresh_balance())
    tasks["b"].set_name("cycle-b")
    truth.report_from_loop(loop, 3, awaits, kinds, cycle=["cycle-a", "cycle-b"])
    await tasks["a"]


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
