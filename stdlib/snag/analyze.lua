-- snag analyze: runs a rules pack over the target. The C++ front end calls begin(config) once,
-- run(i) for each selected rule (each call is a separate sandboxed call with its own budget, so a
-- looping rule cannot starve the others), fail(i, message) when a run raised, then render().
local rules = require("snag.rules")
local facts = require("snag.facts")

local M = {}

local state

local function one_line(s)
  s = tostring(s or ""):gsub("%s*\n%s*", " ")
  return s
end

local function basename(p) return p and (p:match("[^/]+$") or p) or nil end

-- FNV-1a 64 (Lua integers wrap): stable across runs and machines.
local function fnv64(text)
  local h = -3750763034362895579  -- 0xcbf29ce484222325
  for i = 1, #text do
    h = h ~ text:byte(i)
    h = h * 1099511628211
  end
  return string.format("%016x", h)
end

-- A frame as findings carry it; Python and native frames share the shape of `py-bt --json`.
local function frame_of(f)
  if type(f) ~= "table" then return nil end
  return {
    kind = f.kind or (f.code and "python") or (f.pc and "native") or "python",
    ["function"] = f["function"], file = f.file, line = f.line, module = f.module, pc = f.pc,
  }
end

-- Bucket: rule + origin (module!function) + the normalized top frames (no addresses, no lines).
function M.bucket(rule_id, origin, frames)
  local parts = { rule_id, origin or "" }
  for i = 1, math.min(#frames, 5) do
    local f = frames[i]
    parts[#parts + 1] = (basename(f.module or f.file) or "?") .. "!" .. (f["function"] or "?")
  end
  return rule_id .. "-" .. fnv64(table.concat(parts, "|")):sub(1, 12)
end

-- config: {files, select, args = {"rule.key=value"...}, format, fail_on, duration, samples, graph,
--          core_writer = "snag"|"other" (cores), baseline = {source, rules = {[id] = table}}}
function M.begin(config)
  state = { config = config, rules = {}, findings = {}, errors = {}, notes = {}, rules_run = {},
            kind = target.kind == "process" and "live" or "core", baseline = config.baseline }
  facts.samples = config.samples
  facts.core_writer = config.core_writer
  local select
  if config.select and config.select ~= "" then
    local why
    select, why = rules.selector(config.select)
    if not select then error(why, 0) end
  end
  for _, why in ipairs(state.baseline and state.baseline.errors or {}) do
    M.add_note(state.notes, { rule = "analyze", message = "--baseline " .. state.baseline.source .. ": " .. why })
  end
  local seen = {}
  for _, path in ipairs(config.files or {}) do
    local rule, err = rules.load(path)
    if not rule then
      state.errors[#state.errors + 1] = { rule = basename(path), phase = "load", message = one_line(err) }
    elseif rule.extension then
      local ok, why = pcall(rules.apply_extension, rule)
      if not ok then state.errors[#state.errors + 1] = { rule = basename(path), phase = "load", message = one_line(why) } end
    elseif seen[rule.id] then
      state.errors[#state.errors + 1] = { rule = rule.id, phase = "load",
        message = path .. ": id: " .. rule.id .. " is already defined by " .. seen[rule.id] }
    else
      seen[rule.id] = path
      if not select or select(rule) then state.rules[#state.rules + 1] = rule end
    end
  end
  -- --arg RULE.KEY=VALUE: checked against every loaded rule, typed by the arg's default.
  state.overrides = {}
  for _, a in ipairs(config.args or {}) do
    local id, key, value = a:match("^(.+)%.([%w_]+)=(.*)$")
    if not id then error("--arg " .. a .. ": expected RULE.KEY=VALUE", 0) end
    local rule
    for _, r in ipairs(state.rules) do if r.id == id then rule = r end end
    if not rule then error("--arg " .. a .. ": no selected rule has the id " .. id, 0) end
    local v, why = rules.coerce(rule, key, value)
    if v == nil then error("--arg: " .. why, 0) end
    state.overrides[id] = state.overrides[id] or {}
    state.overrides[id][key] = v
  end
  return #state.rules
end

local function supports(rule, kind)
  for _, t in ipairs(rule.targets) do if t == kind then return true end end
  return false
end

-- Adds note n ({rule, message[, pids]}) to notes unless the same message is there: a note is said
-- once per analysis, listing in .rules every rule that gave it (gcore's zero CPU times: three rules).
function M.add_note(notes, n, pid)
  for _, seen in ipairs(notes) do
    if seen.message == n.message then
      for _, id in ipairs(n.rules or { n.rule }) do
        local known = false
        for _, r in ipairs(seen.rules) do known = known or r == id end
        if not known then seen.rules[#seen.rules + 1] = id end
      end
      if pid and seen.pids[#seen.pids] ~= pid then seen.pids[#seen.pids + 1] = pid end
      return
    end
  end
  notes[#notes + 1] = { rule = n.rule, rules = { table.unpack(n.rules or { n.rule }) }, message = n.message,
                        pids = pid and { pid } or nil }
end

-- The report function a rule's check receives; report.note(text) adds a note instead.
local function reporter(rule)
  local r = {}
  function r.note(text) M.add_note(state.notes, { rule = rule.id, message = one_line(text) }) end
  setmetatable(r, { __call = function(_, f)
    if type(f) ~= "table" or type(f.message) ~= "string" then
      error("report{}: needs a table with message = \"...\"", 2)
    end
    local severity = f.severity or rule.severity
    if not rules.severities[severity] then error("report{}: unknown severity " .. tostring(severity), 2) end
    local frames = {}
    for _, fr in ipairs(f.frames or {}) do frames[#frames + 1] = frame_of(fr) end
    local threads = {}
    for _, tid in ipairs(f.threads or {}) do threads[#threads + 1] = math.tointeger(tid) or tid end
    state.findings[#state.findings + 1] = {
      rule = rule.id, pattern = f.pattern or rule.pattern, title = f.title or rule.title,
      severity = severity, message = one_line(f.message), threads = threads, frames = frames,
      evidence = f.evidence or {}, advice = f.advice, pid = target.pid,
      bucket = f.bucket or M.bucket(rule.id, f.origin, frames), bucket_from_rule = f.bucket ~= nil or nil,
    }
  end })
  return r
end

-- Runs rule i; returns "ran" or "skipped: why". Errors propagate to the caller (C++), which
-- reports them with fail(i, message) after the budget's error unwound this call.
function M.run(i)
  local rule = state.rules[i]
  if not supports(rule, state.kind) then return "skipped: not for " .. state.kind .. " targets" end
  if rule.applies and not rule.applies(target) then return "skipped: does not apply" end
  state.rules_run[#state.rules_run + 1] = rule.id
  local before = #state.findings
  local baseline = state.baseline and state.baseline.rules[rule.id]
  if type(baseline) == "table" then baseline.source = baseline.source or state.baseline.source end
  rule.check(target, rules.args_for(rule, state.overrides[rule.id]), reporter(rule), baseline)
  return "ran: " .. (#state.findings - before) .. " findings"
end

-- --baseline OLD: on OLD's session, after begin(), what each selected rule with a baseline
-- function remembers of it, as a Lua literal for the session of the newer dump. A rule that
-- fails here has no baseline (its check then runs as without one) and its error becomes a note.
function M.capture_baseline(source)
  local out, failed = { source = source, rules = {} }, {}
  for _, rule in ipairs(state.rules) do
    if rule.baseline and supports(rule, state.kind) and not (rule.applies and not rule.applies(target)) then
      local ok, value = pcall(rule.baseline, target, rules.args_for(rule, state.overrides[rule.id]))
      if ok and type(value) == "table" then out.rules[rule.id] = value
      elseif not ok then failed[#failed + 1] = rule.id .. ": " .. one_line(value) end
    end
  end
  out.errors = #failed > 0 and failed or nil
  return require("snag.literal").encode(out)
end

-- A rule's check raised (or ran out of budget): drop its partial findings, record the error.
function M.fail(i, message)
  local rule = state.rules[i]
  local kept = {}
  for _, f in ipairs(state.findings) do if f.rule ~= rule.id then kept[#kept + 1] = f end end
  state.findings = kept
  local seen = false
  for _, id in ipairs(state.rules_run) do if id == rule.id then seen = true end end
  if not seen then state.rules_run[#state.rules_run + 1] = rule.id end
  state.errors[#state.errors + 1] = { rule = rule.id, phase = "check", message = one_line(message) }
end

function M.rule_id(i) return state.rules[i].id end

-- The process title as ps shows it (a server may rewrite argv: "postgres: checkpointer").
function M.title(cmdline)
  if type(cmdline) ~= "string" then return nil end
  local title = cmdline:gsub("%s+$", "")
  if title == "" then return nil end
  if #title > 72 then title = title:sub(1, 69) .. "..." end
  return title
end

-- target:signal() or target:psinfo(); nil when the target has none or cannot say.
local function fact(method)
  local ok, value = pcall(method, target)
  return ok and value or nil
end

function M.result()
  table.sort(state.findings, function(a, b)
    local sa, sb = rules.severities[a.severity], rules.severities[b.severity]
    if sa ~= sb then return sa > sb end
    return a.rule < b.rule
  end)
  local py = target.python
  return {
    target = { kind = target.kind, pid = target.pid, executable = target.executable, name = target.name,
               title = M.title(target.cmdline),
               python = py and py.version or nil, duration = state.config.duration,
               signal = fact(target.signal), psinfo = fact(target.psinfo),
               baseline = state.baseline and state.baseline.source or nil },
    findings = state.findings, rules_run = state.rules_run, errors = state.errors, notes = state.notes,
  }
end

-- Prints the report in config.format; writes the wait-for graph when --graph names a file.
function M.render()
  local report = require("snag.report")
  local result = M.result()
  local text = report.render(result, state.config.format or "text", state.config.color)
  io.write(text)
  if state.config.graph and state.config.graph ~= "" then
    local f, err = io.open(state.config.graph, "w")
    if not f then error("cannot write " .. state.config.graph .. ": " .. tostring(err), 0) end
    f:write(report.dot(facts.wait_graph(), facts.thread_name))
    f:close()
  end
  return ""
end

-- 1 when a finding is at or above --fail-on, else 0.
function M.exit_code()
  local limit = rules.severities[state.config.fail_on or "error"] or 3
  for _, f in ipairs(state.findings) do
    if rules.severities[f.severity] >= limit then return 1 end
  end
  return 0
end

-- ---- process trees (--children): each process exports its result, one report renders them ----

-- A Lua constructor for v (strings, numbers, booleans, tables without cycles).
local function serialize(v, depth)
  local kind = type(v)
  if kind == "string" then return string.format("%q", v) end
  if kind == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v then return "(0/0)" end
    if v == math.huge or v == -math.huge then return v > 0 and "(1/0)" or "(-1/0)" end
    return string.format("%.17g", v)
  end
  if kind ~= "table" then return kind == "boolean" and tostring(v) or "nil" end
  if depth > 32 then return "{}" end
  local parts = {}
  for k, x in pairs(v) do
    if type(k) == "string" or math.type(k) == "integer" then
      parts[#parts + 1] = "[" .. serialize(k, depth + 1) .. "]=" .. serialize(x, depth + 1)
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- This process's result as a Lua chunk (the C++ front end passes the chunks to render_tree).
function M.export()
  return serialize(M.result(), 0)
end

-- One result for a process tree: every process's findings (each names its pid), the union of the
-- rules run, errors with their pid, notes said once with the pids they concern.
function M.merge(results, config)
  local merged = { findings = {}, rules_run = {}, errors = {}, notes = {}, processes = {} }
  local ran, by_bucket = {}, {}
  for _, r in ipairs(results) do
    local t = r.target or {}
    merged.processes[#merged.processes + 1] = { pid = t.pid, name = t.name, executable = t.executable,
      title = t.title, python = t.python, failed = (#(r.rules_run or {}) == 0 and #(r.errors or {}) > 0) or nil }
    for _, f in ipairs(r.findings or {}) do
      f.pid = f.pid or t.pid
      -- The same finding (bucket) in several processes is one finding listing their pids.
      local same = by_bucket[f.bucket]
      if same then
        same.pids[#same.pids + 1] = f.pid
      else
        f.pids = { f.pid }
        by_bucket[f.bucket] = f
        merged.findings[#merged.findings + 1] = f
      end
    end
    for _, id in ipairs(r.rules_run or {}) do
      if not ran[id] then ran[id] = true; merged.rules_run[#merged.rules_run + 1] = id end
    end
    for _, e in ipairs(r.errors or {}) do e.pid = e.pid or t.pid; merged.errors[#merged.errors + 1] = e end
    for _, n in ipairs(r.notes or {}) do M.add_note(merged.notes, n, t.pid) end
  end
  merged.target = results[1] and results[1].target or {}
  merged.target.duration = config.duration
  merged.target.children = #results - 1
  return merged
end

-- Renders the tree's report; exit_code() then answers for the whole tree.
function M.render_tree(results, config)
  local merged = M.merge(results, config)
  state = { config = config, findings = merged.findings, rules_run = merged.rules_run, errors = merged.errors,
            notes = merged.notes }
  table.sort(merged.findings, function(a, b)
    local sa, sb = rules.severities[a.severity], rules.severities[b.severity]
    if sa ~= sb then return sa > sb end
    if a.rule ~= b.rule then return a.rule < b.rule end
    return (a.pid or 0) < (b.pid or 0)
  end)
  return require("snag.report").render(merged, config.format or "text", config.color)
end

-- The tags of the selected rules, as " tag1 tag2 ... ": the front end counts Python objects only
-- when a selected rule is tagged heap (the census stops the process twice) and samples Python
-- stacks only for stack-samples (a short stop each). Load errors are reported by begin().
function M.selected_tags(files, select_expr)
  local select = select_expr ~= "" and rules.selector(select_expr) or nil
  local seen, out = {}, { "" }
  for _, path in ipairs(files) do
    local rule = rules.load(path)
    if rule and not rule.extension and (not select or select(rule)) then
      for _, tag in ipairs(rule.tags or {}) do
        if not seen[tag] then seen[tag] = true; out[#out + 1] = tag end
      end
    end
  end
  out[#out + 1] = ""
  return table.concat(out, " ")
end

-- `snag rules list`: the loaded rules as a table (no target needed beyond loading).
function M.describe(files)
  local out, errors = {}, {}
  for _, path in ipairs(files) do
    local rule, err = rules.load(path)
    if rule and not rule.extension then out[#out + 1] = rule elseif not rule then errors[#errors + 1] = err end
  end
  return out, errors
end

return M
