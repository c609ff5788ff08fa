return {
  { scenario = "../examples/scenarios/py_native_deadlock.py", python = { "3.11", "3.12" }, modes = { "live", "core" },
    expect = "fire", match = "deadlock among 2 threads" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
