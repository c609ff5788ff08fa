-- Unreadable Python: the target runs a CPython that snag cannot read (a version it has no layout
-- for, damaged runtime state). Said as a finding, so that a report without Python findings is
-- never mistaken for a healthy interpreter.
return {
  id = "python-unreadable",
  pattern = "Not My Version",
  title = "Python is present but snag cannot read it",
  description = "The target runs CPython, but its interpreter state cannot be read (a version without a "
    .. "known layout, or damaged _Py_DebugOffsets): the Python rules could not look at it.",
  severity = "warning",
  tags = { "default", "python", "environment" },
  targets = { "live", "core" },
  applies = function(t)
    local py, _, present = t:find_python()
    return py == nil and present == true
  end,
  check = function(t, args, report)
    local _, why = t:find_python()
    why = tostring(why)
    local version = why:match("Python (%d+%.%d+)") or why:match("python(%d+%.%d+)")
    report{
      message = string.format("Python %sis present but unreadable: %s", version and (version .. " ") or "", why),
      evidence = { version = version, reason = why },
      advice = "py-bt and the Python rules need a CPython layout snag knows (docs/python.md lists them).",
    }
  end,
}
