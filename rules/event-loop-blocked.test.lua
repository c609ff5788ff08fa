-- Cases for `snag rules test`: a loop blocked by time.sleep in a coroutine, and idle loops.
return {
  { scenario = "py_asyncio_blocked.py", python = { "3.9", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "called by task 'blocker' at blocker (py_asyncio_blocked.py:18); 3 ready task(s)" },
  { scenario = "py_asyncio_tree.py", python = { "3.12" }, modes = { "live", "core" }, expect = "silent" },
  { scenario = "py_asyncio_many.py", python = { "3.8" }, modes = { "core" }, expect = "silent" },
}
