-- Fires only where files changed since the target was taken (a core analysed on another machine);
-- the bundled scenarios run against their own files, so these cases check it stays silent there.
-- The firing case rebuilds a library after the core was taken: tests/integration/test_rules.py,
-- not-my-version-rebuilt-library (py_versioned_library.py).
return {
  { scenario = "py_threads.py", python = { "3.11", "3.12" }, modes = { "live", "core" }, expect = "silent" },
}
