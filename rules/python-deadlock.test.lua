-- Cases for `snag rules test`: where python-deadlock must fire and where it must stay silent.
-- Plain Locks record no owner: their probable owners (open `with` blocks) close the cycle, said "probable".
return {
  { scenario = "py_deadlock_rlock.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "deadlock among 2 threads" },
  { scenario = "py_deadlock_lock.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "probable deadlock among 2 threads" },
  { scenario = "py_exception_deadlock.py", python = { "3.11" }, modes = { "core" }, expect = "silent" },
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
  { scenario = "py_thread_leak.py", python = { "3.11" }, modes = { "core" }, expect = "silent" },
}
