-- Command registry: every command is a Lua table registered with command{...}; the Session
-- (runtime/lua/session_commands.cpp) lists, matches and runs them by name.
--
--   command{ name = "info threads", aliases = {"i threads"}, args = "[ID...]",
--            help = "Display the threads of the target.\nLonger explanation...",
--            live_only = false,
--            complete = function(word, before) return {...} end,  -- or "symbol"; optional
--            run = function(ctx, args) ctx:print(#target:threads()) end }

-- version counts registrations: the Session caches the command list until it changes.
local M = { registry = {}, aliases = {}, version = 0 }

-- A failure the user caused (bad argument, no such frame): shown as one line, no traceback.
local Failure = { __tostring = function(e) return e.message end }

function M.fail(fmt, ...)
  local message = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  error(setmetatable({ message = message }, Failure), 0)
end

local function words(text)
  local out = {}
  for w in text:gmatch("%S+") do out[#out + 1] = w end
  return out
end
M.words = words

function M.register(spec)
  if type(spec) ~= "table" then error("command{...} takes a table", 2) end
  if type(spec.name) ~= "string" or spec.name == "" then error("command needs a name", 2) end
  if type(spec.run) ~= "function" then error("command " .. spec.name .. " needs a run function", 2) end
  spec.aliases = spec.aliases or {}
  spec.help = spec.help or ""
  spec.args = spec.args or ""
  spec.source = snag._loading or spec.source or "?"
  -- A later file may replace a command (user commands override the stdlib).
  M.registry[spec.name] = spec
  M.version = M.version + 1
  for _, alias in ipairs(spec.aliases) do M.aliases[alias] = spec.name end
  return spec
end

function M.lookup(name)
  return M.registry[name] or M.registry[M.aliases[name] or ""]
end

-- The first sentence of a command's help, as `help` lists it: whole even where the help wraps
-- it over lines; a period inside parentheses or of an abbreviation ("e.g.") does not end it.
function M.summary(spec)
  local text = spec.help:gsub("%s*\n%s*", " ")
  local depth = 0
  for i = 1, #text do
    local c = text:sub(i, i)
    if c == "(" then depth = depth + 1
    elseif c == ")" then depth = math.max(depth - 1, 0)
    elseif c == "." and depth == 0 and (i == #text or text:sub(i + 1, i + 1):match("%s"))
           and not text:sub(1, i):match("%f[%w]%a%.%a%.$") and not text:sub(1, i):match("%f[%w]etc%.$") then
      return text:sub(1, i)
    end
  end
  return text
end

-- ctx: what a command's run function works with.
local Context = {}
Context.__index = Context

function Context:print(...) print(...) end
function Context:write(...) io.write(...) end
function Context:printf(fmt, ...) io.write(string.format(fmt, ...)) end
function Context:fail(fmt, ...) M.fail(fmt, ...) end
function Context:cmd(line) return cmd(line) end
function Context:run(line) return snag.run(line) end

-- The selected thread as a thread object (nil when the target has no threads).
function Context:thread()
  local tid = snag.selected_thread()
  return tid ~= 0 and target:thread(tid) or nil
end

-- The selected frame of the selected thread, or nil when its stack is empty.
function Context:frame()
  local th = self:thread()
  return th and th:frame(snag.selected_frame()) or nil
end

function M.context(spec)
  return setmetatable({ command = spec, target = target }, Context)
end

function M.run(name, argstring)
  local spec = M.lookup(name)
  if not spec then M.fail('Undefined command: "%s".  Try "help".', name) end
  if spec.live_only and target.kind == "core" then
    M.fail("%s works on live processes only; this target is a core file.", spec.name)
  end
  local args = words(argstring or "")
  args.raw = argstring or ""
  spec.run(M.context(spec), args)
end

-- ---- tab completion of arguments (the REPL asks through Session::complete_argument) ----

-- Argument words of a synopsis that take a symbol name: `break LOCATION`, `info symbol ADDR`.
local SYMBOL_ARGS = { LOCATION = true, ADDR = true, ADDRESS = true, EXPR = true, EXPRESSION = true,
                      FUNCTION = true }
-- The command language's own commands (runtime/command) are not in the registry.
local BUILTIN_ARGS = { print = "EXPR", p = "EXPR", inspect = "EXPR", output = "EXPR", x = "ADDR" }
local MAX_SYMBOLS = 1000

-- spec.complete wins; otherwise a synopsis whose first word names a symbol gets symbol names.
local function completer(name)
  local spec = M.lookup(name)
  if spec and spec.complete then return spec.complete end
  local synopsis = spec and spec.args or BUILTIN_ARGS[name] or ""
  local first = synopsis:match("^%[?([%u_]+)")
  if first and SYMBOL_ARGS[first] then return "symbol" end
  return nil
end

local function symbol_candidates(word)
  -- `break *main`: the address operator stays in front of the name being completed.
  local op, name = word:match("^([*&]*)(.*)$")
  if name == "" then return {} end  -- every symbol of every module helps nobody
  local out = snag.symbol_names(name, MAX_SYMBOLS)
  if op ~= "" then
    for i, n in ipairs(out) do out[i] = op .. n end
  end
  return out
end

-- Candidates for `word` typed as an argument of command `name` after the text `before`.
-- spec.complete is "symbol" or a function(word, before) returning names (filtered here).
function M.complete(name, before, word)
  local how = completer(name)
  if how == "symbol" then return symbol_candidates(word) end
  if type(how) ~= "function" then return {} end
  local ok, names = pcall(how, word, before)
  if not ok or type(names) ~= "table" then return {} end
  local out, seen = {}, {}
  for _, n in ipairs(names) do
    if type(n) == "string" and n:sub(1, #word) == word and not seen[n] then
      seen[n] = true
      out[#out + 1] = n
    end
  end
  table.sort(out)
  return out
end

_G.command = M.register
snag.fail = M.fail
snag.command = M

return M
