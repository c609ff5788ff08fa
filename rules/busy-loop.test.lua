return {
  -- Live: find_archive is in every stack sample; the core: one snapshot and its CPU times.
  { scenario = "py_busy_zip.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire", match = "find_archive" },
  -- A pool: only the spinning worker is named, none of the four idle ones.
  { scenario = "py_pool_busy.py", python = { "3.11", "3.12" }, modes = { "live-tree" }, expect = "fire",
    match = "reconcile_forever", pid = "spinning_pid" },
  -- CPU-busy in different code each sample (a request server): a spiking thread, no loop.
  { scenario = "py_busy_requests.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
}
