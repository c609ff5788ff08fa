return {
  { scenario = "py_busy_zip.py", python = { "3.11", "3.12" }, modes = { "live" }, expect = "fire", match = "find_archive" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
}
