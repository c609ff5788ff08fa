return {
  { scenario = "py_thread_leak.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "fire",
    env = { SNAG_LEAK_INTERVAL = "0.05", SNAG_LEAK_READY_AT = "15" }, match = "serve_connection" },
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
