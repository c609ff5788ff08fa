-- Stack commands: bt [full] [N], frame [N], up [N], down [N] — gdb's names and numbering.
local fmt = require("snag.format")

local function selected_thread(ctx)
  local th = ctx:thread()
  if not th then ctx:fail("No stack.") end
  return th
end

local function selected_frame(ctx)
  local f = ctx:frame()
  if not f then ctx:fail("No frame selected.") end
  return f
end

-- A frame's locals (or args) as gdb prints them: "indent name = value", "No locals." or why
-- there are none.
local function print_locals(ctx, f, indent, args)
  local locals, why
  if args then locals, why = f:args() else locals, why = f:locals() end
  if not locals then return ctx:print(why) end
  if #locals == 0 then return ctx:print(args and "No arguments." or "No locals.") end
  for _, v in ipairs(locals) do ctx:printf("%s%s = %s\n", indent, v.name, v.value) end
end

command{
  name = "info args", args = "",
  help = "Print the arguments of the selected frame's function (DWARF).",
  run = function(ctx) print_locals(ctx, selected_frame(ctx), "", true) end,
}

command{
  name = "info locals", args = "",
  help = "Print the local variables of the selected frame (DWARF), innermost block first.",
  run = function(ctx) print_locals(ctx, selected_frame(ctx), "") end,
}

command{
  name = "bt", aliases = {"backtrace", "where"}, args = "[full] [-no-args] [N|-N]",
  help = "Print the selected thread's native stack, innermost frame first, with each function's\n" ..
         "arguments from DWARF as gdb shows them (-no-args: without, gdb's -frame-arguments none).\n" ..
         "N shows the innermost N frames, -N the outermost N. `full` adds each frame's local\n" ..
         "variables from DWARF, innermost block first, as gdb prints them (<optimized out>\n" ..
         "where the location is not one snag evaluates). As in gdb, a stack ends at main\n" ..
         "(backtrace past-main off) and a frame an inlined call sits in shows no pc.",
  run = function(ctx, args)
    local th = selected_thread(ctx)
    local full, limit, with_args = false, nil, true
    for _, w in ipairs(args) do
      if w == "full" or w == "-full" then full = true
      elseif w == "-no-args" then with_args = false
      elseif math.tointeger(tonumber(w)) then limit = math.tointeger(tonumber(w))
      else ctx:fail('No symbol "%s" in current context.', w) end
    end
    local stack = th:stack()
    local shown = fmt.frames_to_main(stack)
    local first, last = 1, shown
    if limit and limit >= 0 then last = math.min(shown, limit) end
    if limit and limit < 0 then first = math.max(1, shown + limit + 1) end
    for i = first, last do
      local f = stack[i]
      ctx:print(fmt.frame_line(f, with_args, stack[i - 1]))
      if full then print_locals(ctx, f, "        ") end
    end
    if last < shown then ctx:print("(More stack frames follow...)") end
    if stack.error then ctx:printf("Backtrace stopped: %s\n", stack.error) end
  end,
}

-- Selects frame n of the selected thread and prints it the way gdb's `frame` does.
local function show_frame(ctx, th, n)
  snag.select_frame(n)
  local f = th:frame(n)
  ctx:print(fmt.frame_line(f, nil, n > 0 and th:frame(n - 1) or nil))
  local src = fmt.source_line(f)
  if src then ctx:print(src) end
end

command{
  name = "frame", aliases = {"f"}, args = "[N]",
  help = "Select frame N of the selected thread (0 is innermost), or show the selected frame.",
  run = function(ctx, args)
    local th = selected_thread(ctx)
    local n = snag.selected_frame()
    if args[1] then
      n = math.tointeger(tonumber(args[1]))
      if not n or not th:frame(n) then ctx:fail("No frame at level %s.", args[1]) end
    end
    if not th:frame(n) then ctx:fail("No stack.") end
    show_frame(ctx, th, n)
  end,
}

local function step(ctx, args, direction)
  local th = selected_thread(ctx)
  local count = args[1] and math.tointeger(tonumber(args[1])) or 1
  if not count then ctx:fail("Invalid number \"%s\".", args[1]) end
  local from = snag.selected_frame()
  local to = from + direction * count
  local depth = #th:stack()
  if to >= depth then
    if from == depth - 1 then ctx:fail("Initial frame selected; you cannot go up.") end
    to = depth - 1
  elseif to < 0 then
    if from == 0 then ctx:fail("Bottom (innermost) frame selected; you cannot go down.") end
    to = 0
  end
  show_frame(ctx, th, to)
end

command{
  name = "up", args = "[N]",
  help = "Select the frame N levels up (towards the caller, outermost); default 1.",
  run = function(ctx, args) step(ctx, args, 1) end,
}

command{
  name = "down", args = "[N]",
  help = "Select the frame N levels down (towards the innermost frame); default 1.",
  run = function(ctx, args) step(ctx, args, -1) end,
}
