return {
  { scenario = "py_memory_leak.py", python = { "3.11", "3.12" }, modes = { "live" }, expect = "fire", duration = "1.5",
    match = "RSS grew" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
}
