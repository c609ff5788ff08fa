return {
  { scenario = "py_thread_leak.py", python = { "3.11", "3.12" }, modes = { "live" }, expect = "fire", duration = "1.5",
    env = { SNAG_LEAK_INTERVAL = "0.1", SNAG_LEAK_READY_AT = "3" }, match = "threads grew" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
}
