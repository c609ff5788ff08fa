-- Cases for `snag rules test`: tasks awaiting each other, and a healthy tree of tasks.
return {
  { scenario = "py_asyncio_cycle.py", python = { "3.8", "3.11", "3.13" }, modes = { "live", "core" }, expect = "fire",
    match = "await cycle among 2 asyncio tasks: 'cycle-a' awaits 'cycle-b'" },
  { scenario = "py_asyncio_tree.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
