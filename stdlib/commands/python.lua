-- CPython commands, named and shaped like CPython's gdb extension (Tools/gdb/libpython.py):
-- py-bt, py-bt-full, py-up, py-down, py-locals, py-print, py-list, plus py-frame (by level or
-- function, like gdb's `frame function`), info py-threads, py-modules and py-tasks (asyncio).
-- They work on the selected thread (use `thread apply all py-bt` for every thread).
local pyh = require("snag.python")
local fmt = require("snag.format")

local function pyh_where(f)
  return string.format("%s (%s:%d)", f["function"], fmt.basename(f.file), f.line)
end

local function need_frame(ctx, with_locals)
  local f, t = pyh.frame(with_locals)
  if not f then ctx:fail(t) end
  return f, t
end

local function print_source(ctx, f)
  local line = pyh.current_line(f)
  if line then ctx:print("    " .. line:gsub("^%s+", "")) end
end

command{
  name = "py-bt", args = "",
  help = "Print the selected thread's Python stack, most recent call first, like a traceback: the\n" ..
         "built-in calls between its frames as gdb shows them, the lock it waits on (with the\n" ..
         "owner's thread) and the plain Locks its open `with` blocks probably hold.",
  run = function(ctx)
    local t, err = pyh.thread(false)
    if not t then ctx:fail(err) end
    local calls, next_call = pyh.builtin_calls(t), 1
    -- One write per thread: `thread apply all py-bt` prints thousands of these lines.
    local out = {"Traceback (most recent call first):\n"}
    for i, f in ipairs(t.frames) do
      while calls[next_call] and calls[next_call].level < i do
        out[#out + 1] = "  " .. calls[next_call].text .. "\n"
        next_call = next_call + 1
      end
      out[#out + 1] = string.format('  File "%s", line %d, in %s\n', f.file, f.line, f["function"])
      local line = pyh.current_line(f)
      if line then out[#out + 1] = "    " .. line:gsub("^%s+", "") .. "\n" end
    end
    if t.frames.error then out[#out + 1] = string.format("  (stack walk stopped: %s)\n", t.frames.error) end
    for _, line in ipairs(pyh.lock_lines(t)) do out[#out + 1] = "  " .. line .. "\n" end
    ctx:write(table.concat(out))
  end,
}

command{
  name = "py-bt-full", args = "",
  help = "Print the selected thread's Python frames with their addresses and local variables, and\n" ..
         "the built-in calls between them, numbered by native frame as gdb numbers them.",
  run = function(ctx)
    local t, err = pyh.thread(true)
    if not t then ctx:fail(err) end
    local calls, natives = pyh.builtin_calls(t)
    local next_call = 1
    for i, f in ipairs(t.frames) do
      while calls[next_call] and calls[next_call].level < i do
        ctx:printf("#%d %s\n", calls[next_call].native, calls[next_call].text)
        next_call = next_call + 1
      end
      ctx:printf("#%d %s\n", natives[i - 1] or i - 1, pyh.summary(f))
      print_source(ctx, f)
    end
  end,
}

local function show_selected(ctx)
  local f = need_frame(ctx, true)
  local builtin = pyh.selected_builtin()
  if builtin then return ctx:printf("#%d %s\n", builtin.native, builtin.text) end
  ctx:printf("#%d %s\n", pyh.selected_number(), pyh.summary(f))
  print_source(ctx, f)
end

command{
  name = "py-up", args = "",
  help = "Select and print the Python frame that called the selected one (an older frame), or\n" ..
         "the built-in call, GIL wait or collection between them, numbered as gdb numbers them. As\n" ..
         "in gdb, the first py-up in a built-in call selects the Python frame that made the call.",
  run = function(ctx)
    need_frame(ctx, false)
    if not pyh.move(1) then ctx:fail("Unable to find an older python frame") end
    show_selected(ctx)
  end,
}

command{
  name = "py-down", args = "",
  help = "Select and print the Python frame called by the selected one (a newer frame), or the\n" ..
         "built-in call, GIL wait or collection between them (as gdb's py-down).",
  run = function(ctx)
    need_frame(ctx, false)
    if not pyh.move(-1) then ctx:fail("Unable to find a newer python frame") end
    show_selected(ctx)
  end,
}

command{
  name = "py-locals", args = "",
  help = "Print the local variables of the selected Python frame (name = repr) under\n" ..
         "'Locals for FUNCTION', as gdb's libpython does.",
  run = function(ctx)
    local f = need_frame(ctx, true)
    ctx:printf("Locals for %s\n", (f["function"] or "?"):match("([^.]*)$"))
    for _, v in ipairs(f.locals) do ctx:printf("%s = %s\n", v.name, v.value) end
  end,
}

-- A frame's function matches its qualified name ("Event.wait") or the last part ("wait").
local function runs_function(f, name)
  local fn = f["function"] or ""
  return fn == name or fn:match("([^.]+)$") == name
end

command{
  name = "py-frame", args = "[N|FUNCTION]",
  help = "Select and print the Python frame numbered N (the native frame of its eval loop, as\n" ..
         "py-up and py-bt-full number them, gdb's numbering), or the innermost frame running\n" ..
         "FUNCTION; the selected frame without an argument. FUNCTION completes with Tab.",
  complete = function() return pyh.function_names() end,
  run = function(ctx, args)
    local _, t = need_frame(ctx, false)
    local want = args[1]
    if want then
      local level = math.tointeger(tonumber(want))
      if level then
        if not pyh.select_number(level) then ctx:fail("No Python frame numbered %s.", want) end
        return show_selected(ctx)
      else
        for i, f in ipairs(t.frames) do
          if runs_function(f, want) then level = i - 1 break end
        end
        if not level then ctx:fail("No Python frame runs %s in this thread", want) end
      end
      if not pyh.select(level) then ctx:fail("No Python frame at level %s.", want) end
    end
    show_selected(ctx)
  end,
}

command{
  name = "py-print", args = "NAME",
  help = "Print NAME as the selected Python frame sees it: a local, else a global of its module,\n" ..
         "else a builtin (libpython's local/global/builtin labels).",
  complete = function() return pyh.local_names() end,
  run = function(ctx, args)
    local name = args[1]
    if not name then ctx:fail("Usage: py-print NAME") end
    local f = need_frame(ctx, true)
    for _, v in ipairs(f.locals) do
      if v.name == name then
        ctx:printf("local '%s' = %s\n", name, v.value)
        return
      end
    end
    local value, scope = target.python:lookup(f.address, name)
    if not value then ctx:fail("'%s' not found", name) end
    ctx:printf("%s '%s' = %s\n", scope, name, value)
  end,
}

command{
  name = "py-list", args = "[START[,END]]",
  help = "List the Python source around the selected frame's line ('>' marks it), or lines\n" ..
         "START..END (START alone: 10 lines from START).",
  run = function(ctx, args)
    local f = need_frame(ctx, false)
    local first, last = f.line - 5, f.line + 5
    if args[1] then
      local a, b = args.raw:match("^%s*(%d+)%s*,?%s*(%d*)")
      if not a then ctx:fail("Usage: py-list [START[,END]]") end
      first = tonumber(a)
      last = b ~= "" and tonumber(b) or first + 10
    end
    if first < 1 then first = 1 end
    local lines = pyh.source_lines(f.file, first, last)
    if not lines then ctx:fail("Unable to open %s", f.file) end
    for n = first, last do
      if lines[n] then
        local label = (n == f.line and ">" or "") .. n
        ctx:printf("%4s    %s\n", label, lines[n])
      end
    end
  end,
}

command{
  name = "info py-threads", args = "",
  help = "List the Python threads: OS thread, Python name, GIL (holds / waits), GC and frame.",
  run = function(ctx)
    local py = target.python
    if not py then
      local _, why = target:find_python()
      ctx:fail(why or "no Python runtime in this target")
    end
    ctx:printf("Python %s (%s)%s\n", py.version, py.module, py.gc_collecting and ", GC running" or "")
    local current = snag.selected_thread()
    local numbers = {}
    for _, th in ipairs(target:threads()) do numbers[th.tid] = th end
    for _, t in ipairs(py:threads()) do
      local os = numbers[t.tid]
      local mark = t.tid == current and "*" or " "
      local top = t.frames[1]
      local where = top and string.format("%s (%s:%d)", top["function"], fmt.basename(top.file), top.line)
                    or "(no Python frame)"
      ctx:printf("%s %-4s %-12s %-16s %-18s %s%s\n", mark, os and os.num or "-",
                 "LWP " .. t.tid, t.name ~= "" and t.name or "?", t.status, where,
                 t.gc and " [gc]" or "")
    end
  end,
}

command{
  name = "py-modules", args = "[PATTERN]",
  help = "List sys.modules with the file each module was loaded from (PATTERN filters names).",
  run = function(ctx, args)
    local py = target.python
    if not py then ctx:fail("Unable to locate the Python runtime") end
    for _, m in ipairs(py:modules()) do
      if not args[1] or m.name:find(args[1]) then
        ctx:printf("%-32s %s\n", m.name, m.file or "(built-in)")
      end
    end
  end,
}

command{
  name = "py-tasks", args = "[NAME]",
  help = "List the asyncio tasks (3.8–3.15): state, what each awaits, who awaits it, where it is\n" ..
         "suspended; with NAME, that task's whole await chain. `snag tasks` and `snag py-bt --tasks`\n" ..
         "print the same from the shell (docs/asyncio.md).",
  run = function(ctx, args)
    local py = target.python
    if not py then ctx:fail("Unable to locate the Python runtime") end
    local tasks = py:tasks()
    for _, w in ipairs(tasks.warnings) do ctx:printf("warning: %s\n", w) end
    local names = {}
    for _, t in ipairs(tasks) do names[t.address] = t.name end
    local function list(addresses)
      local out = {}
      for _, a in ipairs(addresses) do out[#out + 1] = names[a] or string.format("0x%x", a) end
      return #out > 0 and table.concat(out, ",") or "-"
    end
    for _, t in ipairs(tasks) do
      if not args[1] or t.name == args[1] then
        local state = t.running and "running" or t.state
        local awaits = t.awaiting ~= "" and t.awaiting or t.kind
        ctx:printf("%-20s %-9s %-24s awaited by %-16s %s\n", t.name, state, awaits ~= "" and awaits or "-",
                   list(t.awaited_by), t.frames[1] and pyh_where(t.frames[1]) or "-")
        if args[1] then
          for i, f in ipairs(t.frames) do ctx:printf("  #%d %s\n", i - 1, pyh_where(f)) end
        end
      end
    end
    for _, c in ipairs(tasks.cycles) do ctx:printf("await cycle: %s\n", list(c)) end
    if #tasks == 0 then ctx:print("no asyncio tasks") end
  end,
}
