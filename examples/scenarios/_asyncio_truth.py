# Ground truth of the asyncio scenarios: every task of the loop with its name, state, await
# chain (coroutine frames through cr_await / gi_yieldfrom, innermost first, as snag must read
# them from outside), get_stack(), and the await edges the scenario built. Works on 3.8+.
import asyncio
import os
import sys

import _scenario


def _frame_record(frame):
    code = frame.f_code
    item = {"function": code.co_name, "file": code.co_filename, "line": frame.f_lineno}
    qualname = getattr(code, "co_qualname", None)  # 3.11+: what snag shows as the name
    if qualname is not None:
        item["qualname"] = qualname
    return item


def await_chain(task):
    """Coroutine frames a suspended task waits in, innermost first."""
    out, current, seen = [], task.get_coro(), set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frame = getattr(current, "cr_frame", None) or getattr(current, "gi_frame", None)
        if frame is None:
            break
        out.append(_frame_record(frame))
        current = getattr(current, "cr_await", None) if hasattr(current, "cr_await") \
            else getattr(current, "gi_yieldfrom", None)
    out.reverse()
    return out


def all_tasks(loop):
    for _ in range(100):  # another thread may add a task while the WeakSet is iterated
        try:
            return list(asyncio.all_tasks(loop))
        except RuntimeError:
            continue
    return list(asyncio.all_tasks(loop))


def task_records(loop, awaits, kinds, chain=await_chain):
    """awaits: task name -> names of the tasks it awaits; kinds: task name -> what it waits on."""
    awaited_by = {}
    for parent, children in awaits.items():
        for child in children:
            awaited_by.setdefault(child, []).append(parent)
    records = []
    for task in all_tasks(loop):
        name = task.get_name()
        records.append({
            "name": name,
            "state": "pending" if not task.done() else ("cancelled" if task.cancelled() else "finished"),
            "frames": chain(task),
            "get_stack": [_frame_record(f) for f in task.get_stack()],
            "awaits": sorted(awaits.get(name, [])),
            "awaited_by": sorted(awaited_by.get(name, [])),
            "kind": kinds.get(name),
        })
    records.sort(key=lambda r: r["name"])
    return records


def parked(loop, expected):
    """True once `expected` tasks exist and each waits on a future."""
    tasks = all_tasks(loop)
    return len(tasks) == expected and all(getattr(t, "_fut_waiter", None) is not None for t in tasks)


def report_from_loop(loop, expected, awaits, kinds, **extra):
    """Polls from loop callbacks (no task of its own) until the tasks are parked, then writes the
    truth and signals ready; the loop goes back to its selector with exactly these tasks."""
    def poll():
        if not parked(loop, expected):
            loop.call_later(0.05, poll)
            return
        me = _scenario.stack_here(depth=1)
        _scenario.write_truth([], tasks=task_records(loop, awaits, kinds),
                              loop_thread=me["ident"],
                              **extra)
        _scenario.signal_ready()
    loop.call_soon(poll)


def version_at_least(minor):
    return sys.version_info[:2] >= (3, minor)


def main_name():
    """asyncio.run's task: named Task-1 in a fresh process."""
    return "Task-1"


def env_int(name, default):
    return int(os.environ.get(name, default))
