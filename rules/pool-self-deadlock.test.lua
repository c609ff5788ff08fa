-- Cases for `snag rules test`: a ThreadPoolExecutor(1) task waiting for a task it queued on the
-- same pool fires; a pool of busy workers (none waiting on a future) and plain threads do not.
return {
  { scenario = "py_pool_self_deadlock.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    match = "waits in Future.result() at render_page" },
  { scenario = "py_pool_busy.py", python = { "3.11" }, modes = { "core" }, expect = "silent" },
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
