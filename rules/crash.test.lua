-- kernel-core: the scenario crashes with RLIMIT_CORE raised and the kernel writes the core
-- (core_pattern must name a plain file, as Debian's default "core" does).
return {
  { scenario = "py_crash.py", argv = { "segv" }, python = { "3.11", "3.12" }, modes = { "kernel-core" },
    expect = "fire", match = "SIGSEGV (SEGV_MAPERR: address not mapped) at address 0x0" },
  { scenario = "py_crash.py", argv = { "abort" }, python = { "3.12" }, modes = { "kernel-core" },
    expect = "fire", match = "SIGABRT raised by abort()" },
  { scenario = "py_deadlock_rlock.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
