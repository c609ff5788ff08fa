return {
  { scenario = "py_threads.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "worker-1" },
  -- A pool: only the spinning worker is named, none of the four idle ones.
  { scenario = "py_pool_busy.py", python = { "3.12" }, modes = { "live-tree" }, expect = "fire", pid = "spinning_pid" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live", "core" }, expect = "silent" },
}
