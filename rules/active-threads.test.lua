return {
  { scenario = "py_threads.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire", match = "worker-1" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live", "core" }, expect = "silent" },
}
