return {
  { scenario = "py_recursion.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "descend" },
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
