-- Rules engine: loads rule files (a Lua file returning a table), validates them naming the file
-- and the field, parses --select expressions and --arg values. Running rules is snag.analyze's
-- job; this module only knows what a rule is.
local M = {}

M.severities = { info = 1, warning = 2, error = 3, critical = 4 }
M.severity_names = { "info", "warning", "error", "critical" }

local function is_list_of_strings(v)
  if type(v) ~= "table" then return false end
  for k, x in pairs(v) do
    if math.type(k) ~= "integer" or type(x) ~= "string" then return false end
  end
  return true
end

local arg_types = { number = true, integer = true, string = true, boolean = true }

-- Type of an arg spec: explicit `type`, else the default's Lua type.
local function arg_type(spec)
  if spec.type then return spec.type end
  if math.type(spec.default) == "integer" then return "integer" end
  return type(spec.default)
end

-- Returns nil or "field: problem" for the first thing wrong with rule.
local function problem(rule)
  if type(rule) ~= "table" then return "the file must return a table (got " .. type(rule) .. ")" end
  if type(rule.id) ~= "string" or not rule.id:match("^[%w][%w%-_.]*$") then
    return "id: must be a string of letters, digits, '-', '_' or '.'"
  end
  for _, field in ipairs({ "pattern", "title" }) do
    if type(rule[field]) ~= "string" or rule[field] == "" then return field .. ": must be a non-empty string" end
  end
  if rule.description ~= nil and type(rule.description) ~= "string" then return "description: must be a string" end
  if not M.severities[rule.severity] then return "severity: must be one of info, warning, error, critical" end
  if rule.tags ~= nil and not is_list_of_strings(rule.tags) then return "tags: must be a list of strings" end
  if rule.targets ~= nil then
    if not is_list_of_strings(rule.targets) then return "targets: must be a list of \"live\"/\"core\"" end
    for _, t in ipairs(rule.targets) do
      if t ~= "live" and t ~= "core" then return "targets: unknown target kind \"" .. t .. "\" (live or core)" end
    end
  end
  if rule.args ~= nil then
    if type(rule.args) ~= "table" then return "args: must be a table of {default=, help=}" end
    for name, spec in pairs(rule.args) do
      if type(name) ~= "string" then return "args: keys must be names" end
      if type(spec) ~= "table" or spec.default == nil then return "args." .. name .. ": needs a default" end
      if not arg_types[arg_type(spec)] then return "args." .. name .. ": type must be number, integer, string or boolean" end
      if spec.help ~= nil and type(spec.help) ~= "string" then return "args." .. name .. ".help: must be a string" end
    end
  end
  if rule.applies ~= nil and type(rule.applies) ~= "function" then return "applies: must be a function" end
  if type(rule.check) ~= "function" then return "check: must be a function(target, args, report)" end
  if rule.baseline ~= nil and type(rule.baseline) ~= "function" then
    return "baseline: must be a function(target, args) returning a table"
  end
  return nil
end

-- Rule files run in their own environment: globals they set stay theirs, the stdlib is visible.
local function rule_env()
  return setmetatable({}, { __index = _G })
end

-- Loads and validates one rule file: rule, or nil and "file: field: problem".
function M.load(path)
  local f, err = io.open(path, "r")
  if not f then return nil, path .. ": cannot read (" .. tostring(err) .. ")" end
  local text = f:read("a")
  f:close()
  local chunk, lerr = load(text, "@" .. path, "t", rule_env())
  if not chunk then return nil, lerr end
  local ok, rule = pcall(chunk)
  if not ok then return nil, tostring(rule) end
  if M.is_extension_table(rule) then return M.extension(rule, path) end
  local why = problem(rule)
  if why then return nil, path .. ": " .. why end
  rule.tags = rule.tags or {}
  rule.targets = rule.targets or { "live", "core" }
  rule.args = rule.args or {}
  rule.description = rule.description or ""
  rule.file = path
  return rule
end

-- A pack extension: a file of a rules directory that returns no rule but policy tables the
-- stdlib's models use: {idle_points = {...} (snag.idle), app_frames = {"+glob", "-glob"} (snag.app_frames)}.
function M.is_extension_table(t)
  return type(t) == "table" and t.id == nil and (t.idle_points ~= nil or t.app_frames ~= nil)
end

function M.extension(t, path)
  if t.idle_points ~= nil and type(t.idle_points) ~= "table" then return nil, path .. ": idle_points: must be a list" end
  if t.app_frames ~= nil and not is_list_of_strings(t.app_frames) then
    return nil, path .. ": app_frames: must be a list of \"+glob\"/\"-glob\" strings"
  end
  return { extension = true, file = path, idle_points = t.idle_points or {}, app_frames = t.app_frames or {} }
end

-- Applies a loaded extension to this analysis's models.
function M.apply_extension(ext)
  require("snag.idle").add(ext.idle_points)
  require("snag.app_frames").add(ext.app_frames)
end

-- True when path is a pack extension (no rule, no test spec needed).
function M.is_extension(path)
  local loaded = M.load(path)
  return loaded ~= nil and loaded.extension == true
end

-- Converts a --arg string to the arg's type: value, or nil and a sentence.
function M.coerce(rule, name, text)
  local spec = rule.args[name]
  if not spec then return nil, "rule " .. rule.id .. " has no argument " .. name end
  local kind = arg_type(spec)
  if kind == "string" then return text end
  if kind == "boolean" then
    if text == "true" or text == "1" or text == "yes" then return true end
    if text == "false" or text == "0" or text == "no" then return false end
    return nil, rule.id .. "." .. name .. " must be true or false, not " .. text
  end
  local n = tonumber(text)
  if kind == "integer" then n = n and math.tointeger(n) end
  if n == nil then return nil, rule.id .. "." .. name .. " must be " .. (kind == "integer" and "an integer" or "a number") .. ", not " .. text end
  return n
end

-- The args a rule's check receives: defaults overridden by --arg values.
function M.args_for(rule, overrides)
  local args = {}
  for name, spec in pairs(rule.args) do args[name] = spec.default end
  for name, value in pairs(overrides or {}) do args[name] = value end
  return args
end

-- ---- --select: `default and not slow`, `python-*`, `(a or b) and not c` ----

local function tokenize(expr)
  local tokens, i = {}, 1
  while i <= #expr do
    local c = expr:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c == "(" or c == ")" or c == "," then
      tokens[#tokens + 1] = c
      i = i + 1
    else
      local word = expr:match("^[^%s(),]+", i)
      tokens[#tokens + 1] = word
      i = i + #word
    end
  end
  return tokens
end

-- Glob with `*` and `?` over an id or a tag.
local function glob_matcher(word)
  local pattern = "^" .. word:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
  return function(rule)
    if rule.id:match(pattern) then return true end
    for _, tag in ipairs(rule.tags) do if tag:match(pattern) then return true end end
    return false
  end
end

-- Parses EXPR into predicate(rule); `a, b` means `a or b`. nil, error on bad syntax.
function M.selector(expr)
  local tokens, pos = tokenize(expr), 1
  local function peek() return tokens[pos] end
  local function take() pos = pos + 1; return tokens[pos - 1] end
  local parse_or
  local function parse_atom()
    local t = take()
    if t == nil then error("--select: the expression ends too early", 0) end
    if t == "not" then
      local inner = parse_atom()
      return function(r) return not inner(r) end
    end
    if t == "(" then
      local inner = parse_or()
      if take() ~= ")" then error("--select: missing ')'", 0) end
      return inner
    end
    if t == ")" or t == "and" or t == "or" or t == "," then error("--select: unexpected '" .. t .. "'", 0) end
    return glob_matcher(t)
  end
  local function parse_and()
    local left = parse_atom()
    while peek() == "and" do
      take()
      local l, r = left, parse_atom()
      left = function(x) return l(x) and r(x) end
    end
    return left
  end
  parse_or = function()
    local left = parse_and()
    while peek() == "or" or peek() == "," do
      take()
      local l, r = left, parse_and()
      left = function(x) return l(x) or r(x) end
    end
    return left
  end
  local ok, result = pcall(function()
    local p = parse_or()
    if pos <= #tokens then error("--select: unexpected '" .. tokens[pos] .. "'", 0) end
    return p
  end)
  if not ok then return nil, result end
  return result
end

-- `snag rules list`: one block per rule (id, severity, targets, tags, title, help, args).
-- Returns the text and the load errors (one per line).
function M.list_text(files)
  local out, errors = {}, {}
  local loaded = {}
  for _, path in ipairs(files) do
    local rule, err = M.load(path)
    if rule and rule.extension then
      out[#out + 1] = string.format("extension %s: %d idle points, %d app-frame patterns", path,
        #rule.idle_points, #rule.app_frames)
    elseif rule then loaded[#loaded + 1] = rule else errors[#errors + 1] = err end
  end
  table.sort(loaded, function(a, b) return a.id < b.id end)
  for _, r in ipairs(loaded) do
    out[#out + 1] = string.format("%-20s %-8s %-10s %s", r.id, r.severity, table.concat(r.targets, ","), r.title)
    out[#out + 1] = string.format("  pattern: %s; tags: %s; file: %s", r.pattern, table.concat(r.tags, ", "), r.file)
    if r.description ~= "" then out[#out + 1] = "  " .. r.description end
    local names = {}
    for name in pairs(r.args) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local a = r.args[name]
      out[#out + 1] = string.format("  --arg %s.%s=%s  %s", r.id, name, tostring(a.default), a.help or "")
    end
  end
  return table.concat(out, "\n") .. (#out > 0 and "\n" or ""), table.concat(errors, "\n")
end

-- A rule's test spec (X.test.lua beside X.lua) as JSON for `snag rules test`:
-- {id, cases = {{scenario, argv, expect = "fire"|"silent", python = {...}, modes = {...}, env, args,
-- match, duration, pid}}}; mode "kernel-core": the scenario crashes and the kernel writes the core;
-- "live-tree": `snag analyze PID --children`; pid: the truth key holding the only pid allowed to fire.
function M.spec_json(rule_path, spec_path)
  local rule, err = M.load(rule_path)
  if not rule then error(err, 0) end
  local f, ferr = io.open(spec_path, "r")
  if not f then error(spec_path .. ": cannot read (" .. tostring(ferr) .. ")", 0) end
  local text = f:read("a")
  f:close()
  local chunk, lerr = load(text, "@" .. spec_path, "t", {})
  if not chunk then error(lerr, 0) end
  local cases = chunk()
  if type(cases) ~= "table" or #cases == 0 then error(spec_path .. ": must return a list of cases", 0) end
  for i, c in ipairs(cases) do
    local where = spec_path .. ": case " .. i .. ": "
    if type(c.scenario) ~= "string" then error(where .. "scenario: must be a file name", 0) end
    if c.expect ~= "fire" and c.expect ~= "silent" then error(where .. "expect: must be \"fire\" or \"silent\"", 0) end
    c.python = c.python or { "3.12" }
    c.modes = c.modes or { "live", "core" }
    c.env = c.env or {}
    c.args = c.args or {}
    c.argv = c.argv or {}
    for _, m in ipairs(c.modes) do
      if m ~= "live" and m ~= "core" and m ~= "kernel-core" and m ~= "live-tree" then
        error(where .. "modes: live, live-tree, core or kernel-core, not " .. tostring(m), 0)
      end
    end
    if c.at_least ~= nil and not M.severities[c.at_least] then
      error(where .. "at_least: must be one of info, warning, error, critical", 0)
    end
    if c.pid ~= nil and type(c.pid) ~= "string" then error(where .. "pid: must name a key of the scenario's truth", 0) end
  end
  return require("snag.report").json({ id = rule.id, cases = cases })
end

return M
