return {
  { scenario = "py_memory_leak.py", python = { "3.11", "3.12" }, modes = { "live" }, expect = "fire", duration = "1.5",
    match = "RSS grew" },
  -- GC census: the leaking class is the kind that grows most (3.8 and 3.13 bound the layouts read).
  { scenario = "py_heap_growth.py", python = { "3.8", "3.11", "3.12", "3.13" }, modes = { "live" }, expect = "fire",
    match = "growing most: AuditRecord +" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "live" }, expect = "silent" },
}
