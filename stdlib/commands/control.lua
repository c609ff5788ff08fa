-- Live control: break/tbreak, info breakpoints, delete/disable/enable, condition, ignore,
-- commands, continue, interrupt, stepi/nexti/finish, detach, kill, handle, trace; and
-- target:break_at(loc, fn) for Lua actions. The engine is runtime/control (snag.control).
local fmt = require("snag.format")
local control = snag.control

local ARG_REGS = { "rdi", "rsi", "rdx", "rcx", "r8", "r9" }
local lua_actions = {}      -- breakpoint id → Lua function(hit)
local action = nil          -- while a breakpoint's commands run: { decision = "stop"|"continue" }
local quiet_hits = {}       -- breakpoint id → true when its commands start with `silent`
local tracing = nil         -- trace: function(hit) counting stacks
local only_continue = {}    -- breakpoint id → true when its commands are just `continue`

local function need_live(ctx)
  local ok, why = control.available()
  if not ok then ctx:fail("%s", why) end
end

-- The hit as Lua sees it: registers, arguments, the Python frame of the hitting thread.
local function make_hit(id, tid)
  local th = target:thread(tid)
  local regs = th and th:registers() or {}
  local hit = { id = id, tid = tid, thread = th, regs = regs, pc = regs.rip,
                breakpoint = control.get(id) }
  function hit:arg(n) return regs[ARG_REGS[n]] end
  function hit:cstring(n, max) return target:cstr(regs[ARG_REGS[n]], max or 4096) end
  -- The innermost Python frame {function, file, line} of the hitting thread, or nil.
  function hit:python()
    local py = target.python
    local t = py and py:thread(tid)
    return t and t.frames and t.frames[1] or nil
  end
  function hit:python_frames()
    local py = target.python
    local t = py and py:thread(tid)
    return t and t.frames or {}
  end
  return hit
end

-- $_py_function / $_py_file / $_py_line for command-language conditions and commands.
local function set_python_convenience(hit, text)
  if not text:find("_py_", 1, true) then return end
  local f = hit:python()
  snag.set_convenience("_py_function", f and f["function"] or "")
  snag.set_convenience("_py_file", f and f.file or "")
  snag.set_convenience("_py_line", f and f.line or 0)
end

local function lua_condition(code, hit)
  local chunk, err = load("return " .. code, "=condition", "t",
                          setmetatable({ hit = hit }, { __index = _G }))
  if not chunk then error(err, 0) end
  return chunk()
end

function control.on_condition(id, tid)
  local bp = control.get(id)
  if bp.condition == "" then return true end
  snag.select_thread(tid)
  local hit = make_hit(id, tid)
  local lua_code = bp.condition:match("^lua:%s*(.*)$")
  if lua_code then return lua_condition(lua_code, hit) and true or false end
  set_python_convenience(hit, bp.condition)
  cmd("if " .. bp.condition .. "\nset $_snag_condition = 1\nelse\nset $_snag_condition = 0\nend")
  return snag.convenience("_snag_condition") ~= 0
end

local function location_text(tid)
  local th = target:thread(tid)
  local pc = th and th:registers().rip or 0
  local sym = snag.symbolic(pc)
  return fmt.hex(pc) .. (sym and (" in " .. sym) or "")
end

function control.on_action(id, tid)
  -- `commands / silent / continue / end` (counting hits): nothing to run, nothing to print.
  if only_continue[id] and quiet_hits[id] and not tracing then return false end
  snag.select_thread(tid)
  snag.set_convenience("bpnum", id)
  snag.set_convenience("_thread_tid", tid)
  if tracing then return tracing(id, tid) end
  local fn = lua_actions[id]
  if fn then
    local r = fn(make_hit(id, tid))
    return r == true or r == "stop"
  end
  local bp = control.get(id)
  if bp.commands == "" then return true end
  if not quiet_hits[id] then
    print(string.format("Breakpoint %d, %s (thread %d)", id, location_text(tid), tid))
  end
  set_python_convenience(make_hit(id, tid), bp.commands)
  local outer = action
  action = { decision = "stop" }
  local ok, err = pcall(snag.run, bp.commands)
  local decision = action.decision
  action = outer
  if not ok then error(err, 0) end
  return decision ~= "continue"
end

-- ---- reporting a stop ----

local function report(stop)
  local r = stop.reason
  if r == "breakpoint" then
    print(string.format("\nThread %d hit Breakpoint %d, %s", stop.tid, stop.breakpoint, location_text(stop.tid)))
  elseif r == "signal" then
    print(string.format("\nThread %d received signal %s.", stop.tid, stop.signal_name or stop.signal))
  elseif r == "step" or r == "finished" then
    print(location_text(stop.tid))
  elseif r == "exited" then
    if stop.signal ~= 0 then
      print(string.format("\n[Process terminated with signal %s]", stop.signal_name or stop.signal))
    else
      print(string.format("\n[Process exited with code %d]", stop.exit_code))
    end
  elseif r == "interrupted" then
    print("\nInterrupted: every thread stopped.")
  elseif r == "timeout" then
    print("\nTime limit reached: every thread stopped.")
  elseif r == "hit_limit" then
    print("\nHit limit reached: every thread stopped.")
  elseif r == "error" then
    snag.fail("%s", stop.message)
  end
  return stop
end

-- ---- breakpoints ----

local function parse_ids(ctx, args, what)
  local ids = {}
  for _, a in ipairs(args) do
    local lo, hi = a:match("^(%d+)%-(%d+)$")
    if lo then
      for i = tonumber(lo), tonumber(hi) do ids[#ids + 1] = i end
    elseif a:match("^%d+$") then
      ids[#ids + 1] = tonumber(a)
    else
      ctx:fail("Convenience variable must have integer value.\nArgs must be numbers or '$' variables.")
    end
  end
  if #ids == 0 then
    for _, bp in ipairs(control.breakpoints()) do ids[#ids + 1] = bp.id end
  end
  return ids
end

-- A conditional breakpoint whose commands only continue (or stop) evaluates its condition with
-- only the hitting thread stopped: a false condition never stops the others (gdb stops all).
local function update_mode(id)
  local bp = control.get(id)
  local plain = bp.commands == "" or (only_continue[id] and quiet_hits[id])
  control.set(id, "hitting_thread_only", bp.condition ~= "" and plain and not lua_actions[id] and true or false)
end

local function set_breakpoint(ctx, raw, temporary)
  need_live(ctx)
  local loc, cond = raw:match("^%s*(.-)%s+if%s+(.+)$")
  loc = loc or raw:match("^%s*(.-)%s*$")
  if loc == "" then ctx:fail("Argument required (a location: FUNCTION, FILE:LINE, MODULE!FUNCTION or *ADDRESS).") end
  local expr = loc:match("^%*%s*(.+)$")
  if expr and not expr:match("^0[xX]%x+$") and not expr:match("^%d+$") then
    -- *EXPRESSION: the command language computes the address (*main+4, *$pc, *(long)&f + 19).
    local name, rest = expr:match("^([%a_][%w_.@]*)%s*(.*)$")
    local value = name and ("(long)&" .. name .. " " .. rest) or ("(long)(" .. expr .. ")")
    local evaluated, err = pcall(cmd, "set $_snag_break_address = " .. value)
    if not evaluated then ctx:fail("%s", (tostring(err):gsub("^[^\n]-:%d+: ", ""))) end
    loc = string.format("*0x%x", snag.convenience("_snag_break_address"))
  end
  local ok, id = pcall(control.break_at, loc, temporary)
  if not ok then ctx:fail("%s", (tostring(id):gsub("^[^\n]-:%d+: ", ""))) end
  if cond then control.set(id, "condition", cond); update_mode(id) end
  local bp = control.get(id)
  local kind = temporary and "Temporary breakpoint" or "Breakpoint"
  local src = control.sources(id)[1]
  if bp.pending then
    ctx:printf("%s %d (%s) pending.\n", kind, id, loc)
  elseif #bp.addresses > 1 then
    ctx:printf("%s %d at %d locations: %s\n", kind, id, #bp.addresses, loc)
  elseif src.file then
    ctx:printf("%s %d at %s: file %s, line %d.\n", kind, id, fmt.hex(bp.addresses[1]), src.file, src.line)
  else
    ctx:printf("%s %d at %s: %s\n", kind, id, fmt.hex(bp.addresses[1]), loc)
  end
  return id
end

-- gdb's "What" column: "in FUNCTION at FILE:LINE" when the address has a source line.
local function source_text(src, fallback)
  if not src.file then return fallback end
  return string.format("in %s at %s:%d", src["function"] ~= "" and src["function"] or "??", src.file, src.line)
end

command{
  name = "break", aliases = {"b", "br"}, args = "LOCATION [if CONDITION]", live_only = true,
  help = "Set a breakpoint at LOCATION: FUNCTION (every match in every module, aliases included),\n" ..
         "FILE:LINE (DWARF line table), MODULE!FUNCTION or *ADDRESS. `if CONDITION` stops only when\n" ..
         "the command-language expression is non-zero; `if lua: EXPR` evaluates Lua with `hit`\n" ..
         "(hit:arg(1), hit:cstring(1), hit:python()). $_py_function, $_py_file and $_py_line hold\n" ..
         "the hitting thread's Python frame. A FUNCTION no loaded module defines is pending: set\n" ..
         "when a library defining it is loaded.",
  run = function(ctx, args) set_breakpoint(ctx, args.raw, false) end,
}

command{
  name = "tbreak", args = "LOCATION [if CONDITION]", live_only = true,
  help = "Set a temporary breakpoint: deleted when it is first hit.",
  run = function(ctx, args) set_breakpoint(ctx, args.raw, true) end,
}

command{
  name = "info breakpoints", aliases = {"i b", "info break"}, args = "",
  help = "List breakpoints with their locations, conditions, ignore counts and hit counts.",
  run = function(ctx)
    local bps = control.breakpoints()
    if #bps == 0 then ctx:print("No breakpoints.") return end
    ctx:print("Num     Type           Disp Enb Address            What")
    for _, bp in ipairs(bps) do
      local sources = control.sources(bp.id)
      local single = #bp.addresses == 1
      local addr = single and fmt.hex(bp.addresses[1]) or bp.pending and "<PENDING>" or "<MULTIPLE>"
      ctx:printf("%-7d %-14s %-4s %-3s %-18s %s\n", bp.id, "breakpoint", bp.temporary and "del" or "keep",
                 bp.enabled and "y" or "n", addr, single and source_text(sources[1], bp.location) or bp.location)
      if bp.condition ~= "" then ctx:printf("\tstop only if %s\n", bp.condition) end
      if bp.hits > 0 then
        ctx:printf("\tbreakpoint already hit %d time%s\n", bp.hits, bp.hits == 1 and "" or "s")
      end
      if bp.ignore > 0 then ctx:printf("\tWill ignore next %d crossings of breakpoint.\n", bp.ignore) end
      if lua_actions[bp.id] then ctx:print("\t(Lua action)") end
      for line in (bp.commands .. ""):gmatch("[^\n]+") do ctx:printf("        %s\n", line) end
      if #bp.addresses > 1 then
        for i, a in ipairs(bp.addresses) do
          ctx:printf("%d.%-5d %-14s %-4s %-3s %-18s %s\n", bp.id, i, "", "", "y", fmt.hex(a),
                     source_text(sources[i], snag.symbolic(a) or ""))
        end
      end
    end
  end,
}

-- delete / disable / enable: the same "[N...]" list (all breakpoints without one).
local function for_each_breakpoint(ctx, args, fn)
  need_live(ctx)
  for _, id in ipairs(parse_ids(ctx, args)) do fn(id) end
end

command{
  name = "delete", aliases = {"d"}, args = "[N...]", live_only = true,
  help = "Delete breakpoints N (ranges like 1-3 allowed); all of them without arguments.",
  run = function(ctx, args)
    for_each_breakpoint(ctx, args, function(id)
      control.delete(id)
      lua_actions[id], only_continue[id], quiet_hits[id] = nil, nil, nil
    end)
  end,
}

command{
  name = "disable", args = "[N...]", live_only = true,
  help = "Disable breakpoints N (all without arguments): their int3 bytes are removed.",
  run = function(ctx, args) for_each_breakpoint(ctx, args, function(id) control.enable(id, false) end) end,
}

command{
  name = "enable", args = "[N...]", live_only = true,
  help = "Enable breakpoints N (all without arguments).",
  run = function(ctx, args) for_each_breakpoint(ctx, args, function(id) control.enable(id, true) end) end,
}

command{
  name = "condition", args = "N [EXPRESSION]", live_only = true,
  help = "Stop at breakpoint N only when EXPRESSION is non-zero; without it, always.",
  run = function(ctx, args)
    need_live(ctx)
    local id, cond = args.raw:match("^%s*(%d+)%s*(.-)%s*$")
    if not id then ctx:fail("Argument required (breakpoint number).") end
    control.set(tonumber(id), "condition", cond)
    update_mode(tonumber(id))
    if cond == "" then ctx:printf("Breakpoint %s now unconditional.\n", id) end
  end,
}

command{
  name = "ignore", args = "N COUNT", live_only = true,
  help = "Ignore the next COUNT hits of breakpoint N.",
  run = function(ctx, args)
    need_live(ctx)
    local id, count = tonumber(args[1]), tonumber(args[2])
    if not id or not count then ctx:fail("Argument required (a breakpoint number and a count).") end
    control.set(id, "ignore", count)
    ctx:printf("Will ignore next %d crossings of breakpoint %d.\n", count, id)
  end,
}

-- `commands [N] … end`: the command language hands over "N\nBODY".
command{
  name = "commands", args = "[N]\\nBODY", live_only = true,
  help = "Set commands run when breakpoint N (default: the last one set) is hit. The hit stops\n" ..
         "unless the commands run `continue`; a first line `silent` omits the hit's header line.",
  run = function(ctx, args)
    need_live(ctx)
    local head, body = args.raw:match("^([^\n]*)\n?(.*)$")
    local ids = {}
    for a in head:gmatch("%S+") do ids[#ids + 1] = a end
    local list = #ids > 0 and parse_ids(ctx, ids) or {}
    if #list == 0 then
      local bps = control.breakpoints()
      if #bps == 0 then ctx:fail("No breakpoints specified.") end
      list = { bps[#bps].id }
    end
    local silent = body:match("^%s*silent%s*\n") or body:match("^%s*silent%s*$")
    if silent then body = body:gsub("^%s*silent%s*\n?", "", 1) end
    for _, id in ipairs(list) do
      control.set(id, "commands", body)
      quiet_hits[id] = silent and true or nil
      only_continue[id] = body:match("^%s*continue%s*$") and true or nil
      -- silent + continue: the controller counts such hits itself, without calling back here.
      control.set(id, "continue_only", (silent and only_continue[id] and not lua_actions[id]) and true or false)
      update_mode(id)
    end
  end,
}

-- ---- running ----

local function parse_run_options(ctx, args)
  local opts = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--hits" then opts.hits = tonumber(args[i + 1]); i = i + 1
    elseif a == "--seconds" or a == "--duration" then opts.seconds = tonumber(args[i + 1]); i = i + 1
    elseif a:match("^%d+$") then opts.ignore = tonumber(a)
    else ctx:fail("Unknown option %s (continue [N] [--hits N] [--seconds S]).", a) end
    i = i + 1
  end
  return opts
end

command{
  name = "continue", aliases = {"c", "cont", "fg"}, args = "[N] [--hits N] [--seconds S]", live_only = true,
  help = "Resume every thread until a breakpoint stops, a signal arrives, Ctrl-C or a limit.\n" ..
         "N: ignore the current breakpoint N-1 more times (gdb). --hits N: stop after N hits\n" ..
         "(whose actions continued); --seconds S: stop after S seconds. Inside breakpoint\n" ..
         "commands, `continue` means: do not stop at this hit.",
  run = function(ctx, args)
    if action then action.decision = "continue" return end
    need_live(ctx)
    local opts = parse_run_options(ctx, args)
    local last = snag.convenience("bpnum")
    if opts.ignore and last and opts.ignore > 1 then
      control.set(last, "ignore", opts.ignore - 1)
      ctx:printf("Will ignore next %d crossings of breakpoint %d.  Continuing.\n", opts.ignore - 1, last)
    end
    report(control.continue{ hits = opts.hits, seconds = opts.seconds })
  end,
}

-- advance/until LOCATION: a temporary breakpoint, continue, and the breakpoint gone however the
-- run ended (gdb removes it too when something else stops the program first).
local function run_to(ctx, raw)
  need_live(ctx)
  local loc = raw:match("^%s*(.-)%s*$")
  if loc == "" then ctx:fail("Argument required (a location).") end
  local ok, id = pcall(control.break_at, loc, true)
  if not ok then ctx:fail("%s", (tostring(id):gsub("^[^\n]-:%d+: ", ""))) end
  if control.get(id).pending then
    pcall(control.delete, id)
    ctx:fail("Function \"%s\" not defined.", loc)
  end
  local ran, stop = pcall(control.continue, {})
  if control.breakpoints then
    for _, bp in ipairs(control.breakpoints()) do
      if bp.id == id then pcall(control.delete, id) end
    end
  end
  if not ran then error(stop, 0) end
  if stop.reason == "breakpoint" and stop.breakpoint == id then
    print(location_text(stop.tid))
    return stop
  end
  return report(stop)
end

command{
  name = "advance", aliases = {"until", "u"}, args = "LOCATION", live_only = true,
  help = "Run until LOCATION (FUNCTION, FILE:LINE, *ADDRESS) is reached, or something else\n" ..
         "stops the program first; the temporary stop is removed either way. Unlike gdb, the\n" ..
         "return of the selected frame does not stop it, and `until` needs a LOCATION.",
  run = function(ctx, args) run_to(ctx, args.raw) end,
}


command{
  name = "stop", args = "", live_only = true,
  help = "Inside breakpoint commands: stop at this hit (the default).",
  run = function(ctx) if action then action.decision = "stop" end end,
}

command{
  name = "interrupt", args = "", live_only = true,
  help = "Stop every thread of the process (Break-in). Ctrl-C during `continue` does the same.",
  run = function(ctx) need_live(ctx) control.interrupt() end,
}

local function step(ctx, args, over)
  need_live(ctx)
  local n = tonumber(args[1] or "1") or 1
  local stop
  for _ = 1, n do
    stop = control.step(snag.selected_thread(), over)
    if stop.reason ~= "step" and stop.reason ~= "finished" then break end
  end
  report(stop)
end

command{
  name = "stepi", aliases = {"si"}, args = "[N]", live_only = true,
  help = "Execute N machine instructions in the selected thread (the others stay stopped).",
  run = function(ctx, args) step(ctx, args, false) end,
}

command{
  name = "nexti", aliases = {"ni"}, args = "[N]", live_only = true,
  help = "Like stepi, but a call runs to its return (every thread runs meanwhile).",
  run = function(ctx, args) step(ctx, args, true) end,
}

command{
  name = "finish", args = "", live_only = true,
  help = "Run until the selected frame returns (every thread runs meanwhile).",
  run = function(ctx)
    need_live(ctx)
    local th = ctx:thread()
    local level = snag.selected_frame()
    local caller = th and th:frame(level + 1)
    if not caller then ctx:fail("\"finish\" not meaningful in the outermost frame.") end
    local here = th:frame(level)
    ctx:printf("Run till exit from #%d %s\n", level, snag.symbolic(here.pc) or fmt.hex(here.pc))
    report(control.finish(th.tid, caller.pc, here.sp or th:registers().rsp))
  end,
}

command{
  name = "detach", args = "", live_only = true,
  help = "Remove every breakpoint, resume every thread and let go of the process.",
  run = function(ctx)
    local pid = target.pid or control.pid()
    control.detach()
    ctx:printf("[Inferior 1 (process %d) detached]\n", pid)
  end,
}

command{
  name = "kill", args = "", live_only = true,
  help = "Kill the process (SIGKILL). Typed in the REPL at a terminal, it asks first.",
  run = function(ctx)
    need_live(ctx)
    local pid = control.pid()
    control.kill()
    ctx:printf("[Inferior 1 (process %d) killed]\n", pid)
  end,
}

command{
  name = "handle", args = "SIGNAL [stop|nostop|print|noprint|pass|nopass]...", live_only = true,
  help = "What a signal does to the controlled process: stop snag there, print it, pass it on.",
  run = function(ctx, args)
    need_live(ctx)
    if #args == 0 then ctx:fail("Argument required (signal and the actions to apply).") end
    ctx:print("Signal        Stop\tPrint\tPass to program\tDescription")
    ctx:print(control.handle(table.unpack(args)))
  end,
}

-- ---- Usage Trace ----

local function stack_key(tid, py)
  if py then
    local p = target.python
    local t = p and p:thread(tid)
    if t and t.frames and #t.frames > 0 then
      local lines = {}
      for _, f in ipairs(t.frames) do
        lines[#lines + 1] = string.format("%s (%s:%d)", f["function"], f.file, f.line)
      end
      return table.concat(lines, "\n")
    end
  end
  local th = target:thread(tid)
  local lines = {}
  for _, f in ipairs(th and th:stack() or {}) do
    lines[#lines + 1] = f["function"] or fmt.hex(f.pc)
  end
  return table.concat(lines, "\n")
end

command{
  name = "trace", args = "LOCATION [--duration S] [--hits N] [--py]", live_only = true,
  help = "Count hits of LOCATION per calling stack (native, or Python with --py) for S seconds\n" ..
         "(default 5) and print the Stack Trace Set, most frequent first. The program stops only\n" ..
         "for each hit.",
  run = function(ctx, args)
    need_live(ctx)
    local loc, seconds, hits, py = nil, 5, nil, false
    local i = 1
    while i <= #args do
      local a = args[i]
      if a == "--duration" or a == "--seconds" then seconds = tonumber(args[i + 1]); i = i + 1
      elseif a == "--hits" then hits = tonumber(args[i + 1]); i = i + 1
      elseif a == "--py" then py = true
      elseif not loc then loc = a
      else ctx:fail("Unexpected argument %s.", a) end
      i = i + 1
    end
    if not loc then ctx:fail("Argument required (a location to trace).") end
    local id = control.break_at(loc, false)
    -- Each hit reads only the hitting thread's stack: the other threads keep running.
    control.set(id, "hitting_thread_only", true)
    local counts, order, total = {}, {}, 0
    tracing = function(bp, tid)
      if bp ~= id then return true end
      local key = stack_key(tid, py)
      if not counts[key] then counts[key] = 0; order[#order + 1] = key end
      counts[key] = counts[key] + 1
      total = total + 1
      return false
    end
    local ok, stop = pcall(control.continue, { seconds = seconds, hits = hits })
    tracing = nil
    control.delete(id)
    if not ok then error(stop, 0) end
    if stop.reason == "error" then ctx:fail("%s", stop.message) end
    table.sort(order, function(a, b) return counts[a] > counts[b] end)
    ctx:printf("Stack Trace Set for %s: %d hits, %d distinct stacks (%s)\n", loc, total, #order,
               py and "Python" or "native")
    for _, key in ipairs(order) do
      ctx:printf("\n%d hits (%.1f%%):\n", counts[key], 100 * counts[key] / math.max(total, 1))
      for line in key:gmatch("[^\n]+") do ctx:printf("    %s\n", line) end
    end
    if stop.reason == "exited" then report(stop) end
  end,
}

-- ---- Lua API ----

-- target:break_at(loc, fn): fn(hit) runs at each hit; return true or "stop" to stop there.
local target_meta = getmetatable(target)
if target_meta and type(target_meta.__index) == "table" then
  target_meta.__index.break_at = function(_, loc, fn, opts)
    local id = control.break_at(loc, opts and opts.temporary)
    if opts and opts.condition then control.set(id, "condition", opts.condition) end
    lua_actions[id] = fn
    return id
  end
  target_meta.__index.continue = function(_, opts) return control.continue(opts or {}) end
  target_meta.__index.detach_all = function() control.detach() end
end
