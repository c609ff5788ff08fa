return {
  { scenario = "py_exception_deadlock.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "auditor is blocked in audit" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
