-- Cases for `snag rules test`: 500 forgotten tasks, and the same tasks gathered by main.
return {
  { scenario = "py_asyncio_many.py", python = { "3.8", "3.12" }, modes = { "live", "core" }, expect = "fire",
    env = { SNAG_TASKS = "500", SNAG_DETACHED = "1" },
    match = "500 pending asyncio tasks of idle_connection (py_asyncio_many.py:" },
  { scenario = "py_asyncio_many.py", python = { "3.12" }, modes = { "core" }, expect = "silent",
    env = { SNAG_TASKS = "500" } },
  { scenario = "py_asyncio_tree.py", python = { "3.11" }, modes = { "core" }, expect = "silent" },
}
