return {
  { scenario = "../examples/scenarios/py_wait_chain.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "waits for RLock" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
  { scenario = "py_gil_blocked.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
