-- Fires on a core whose _Py_DebugOffsets claim an unknown version (tests/integration/test_py_bt.py,
-- case unsupported-version); silent wherever snag reads the interpreter.
return {
  { scenario = "py_threads.py", python = { "3.12" }, modes = { "core" }, expect = "silent" },
}
