-- snag triage's worker side: after the rules ran on one dump, the result with what the store
-- keeps of the dump (signal, build-ids) and the stacks of every thread a finding names, from
-- which runtime/triage/signature.cpp makes the bucket.
local facts = require("snag.facts")

local M = {}

local MAX_NATIVE, MAX_PYTHON = 48, 24

local function native_frames(tid)
  local out = {}
  for i, f in ipairs(facts.stack(tid)) do
    if i > MAX_NATIVE then break end
    out[#out + 1] = { ["function"] = f["function"], module = f.module, file = f.file, line = f.line }
  end
  return out
end

local function python_frames(tid)
  local out = {}
  local t = (facts.python_by_tid() or {})[tid]
  for i, f in ipairs(t and t.frames or {}) do
    if i > MAX_PYTHON then break end
    out[#out + 1] = { ["function"] = f["function"], file = f.file, line = f.line }
  end
  return out
end

-- JSON: {result = analyze's result, stacks = {[tid] = {native, python}}, signal, modules}.
function M.export()
  local result = require("snag.analyze").result()
  local stacks = {}
  for _, f in ipairs(result.findings) do
    for _, tid in ipairs(f.threads or {}) do
      local key = tostring(tid)
      if math.type(tid) == "integer" and not stacks[key] then
        stacks[key] = { native = native_frames(tid), python = python_frames(tid) }
      end
    end
  end
  local ok, sig = pcall(target.signal, target)
  local modules = {}
  local mods_ok, mods = pcall(target.modules, target)
  for _, m in ipairs(mods_ok and mods or {}) do
    if m.build_id and m.build_id ~= "" then modules[#modules + 1] = { module = m.path, build_id = m.build_id } end
  end
  return require("snag.report").json({ result = result, stacks = stacks, modules = modules,
                                        signal = ok and sig and sig.name or nil })
end

return M
