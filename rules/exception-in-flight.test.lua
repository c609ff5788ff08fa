return {
  { scenario = "py_nested_exception.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "while handling KeyError" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
