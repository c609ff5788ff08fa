return {
  { scenario = "py_gil_blocked.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "holds the GIL while blocked" },
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "live", "core" }, expect = "silent" },
}
