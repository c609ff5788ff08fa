return {
  { scenario = "py_busy_zip.py", python = { "3.11", "3.12" }, modes = { "live" }, expect = "fire", match = "find_archive" },
  -- A pool: only the spinning worker is named, none of the four idle ones.
  { scenario = "py_pool_busy.py", python = { "3.11", "3.12" }, modes = { "live-tree" }, expect = "fire",
    match = "reconcile_forever", pid = "spinning_pid" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
}
