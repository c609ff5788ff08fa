-- at_least = "warning": an idle process gets an info finding ("idle: ..."), which is not a hang.
return {
  -- Plain Locks in a cycle of probable owners: python-deadlock reports it, not a hang.
  { scenario = "py_deadlock_lock.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "silent",
    at_least = "warning" },
  { scenario = "py_exception_deadlock.py", python = { "3.12" }, modes = { "core" }, expect = "fire",
    match = "auditor", at_least = "warning" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "core" }, expect = "silent", at_least = "warning" },
  { scenario = "py_wait_chain.py", python = { "3.12" }, modes = { "core" }, expect = "silent", at_least = "warning" },
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "live", "core" }, expect = "silent" },
  -- The main thread reads a file in a loop (each stop lands after a read returned): it runs, so a
  -- worker parked on an Event is no hang.
  { scenario = "py_file_reader.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "silent" },
}
