-- Thread commands, as gdb names them: info threads, thread N, thread apply.
local fmt = require("snag.format")

-- gdb numbers threads 1..N in the target's order; snag keeps that numbering.
local function by_number(n)
  local th = target:threads()[n]
  return th
end

local function top_frame_text(th)
  local f = th:frame(0)
  if not f then return "(no stack)" end
  return fmt.frame_body(f, fmt.shows_address(f))
end

command{
  name = "info threads", aliases = {"i threads"}, args = "[ID...]",
  help = "Display the target's threads: gdb number, LWP, name and innermost frame.\n" ..
         "With IDs, only those threads. The selected thread is marked with '*'.",
  run = function(ctx, args)
    local wanted = {}
    for _, w in ipairs(args) do wanted[tonumber(w) or -1] = true end
    local current = snag.selected_thread()
    ctx:print("  Id   Target Id                                         Frame ")
    for _, th in ipairs(target:threads()) do
      if #args == 0 or wanted[th.num] then
        local mark = th.tid == current and "*" or " "
        ctx:printf("%s %-4d %-49s %s\n", mark, th.num, fmt.thread_label(th), top_frame_text(th))
      end
    end
  end,
}

command{
  name = "thread", args = "[ID]",
  help = "Select thread ID (gdb's number from `info threads`), or show the selected thread.",
  run = function(ctx, args)
    if #args == 0 then
      local th = ctx:thread()
      if not th then ctx:fail("No thread selected.") end
      ctx:printf("[Current thread is %d (%s)]\n", th.num, fmt.thread_label(th, false))
      return
    end
    local n = math.tointeger(tonumber(args[1]))
    local th = n and by_number(n)
    if not th then ctx:fail("Invalid thread ID: %s", args[1]) end
    snag.select_thread(th.tid)
    ctx:printf("[Switching to thread %d (%s)]\n", th.num, fmt.thread_label(th, false))
    local f = th:frame(0)
    if f then ctx:print(fmt.frame_line(f)) end
  end,
}

-- "1 3-5" → {1, 3, 4, 5}; stops at the first word that is not a number or range.
local function parse_ids(args)
  local ids, i = {}, 1
  while i <= #args do
    local a, b = args[i]:match("^(%d+)%-(%d+)$")
    if a then
      for n = tonumber(a), tonumber(b) do ids[#ids + 1] = n end
    elseif args[i]:match("^%d+$") then
      ids[#ids + 1] = tonumber(args[i])
    else
      break
    end
    i = i + 1
  end
  return ids, i
end

command{
  name = "thread apply", args = "all|ID... COMMAND",
  help = "Run COMMAND in each listed thread (or all, highest number first, as gdb does).\n" ..
         "Example: thread apply all bt",
  run = function(ctx, args)
    local ids, first
    -- One thread list for the whole loop: target:threads() builds a table per thread.
    local threads, by_num = target:threads(), {}
    for _, th in ipairs(threads) do by_num[th.num] = th end
    if args[1] == "all" then
      ids, first = {}, 2
      for i = #threads, 1, -1 do ids[#ids + 1] = threads[i].num end
    else
      ids, first = parse_ids(args)
    end
    if #ids == 0 then ctx:fail("Please specify a thread ID list") end
    local line = args.raw:match("^%s*" .. ("%S+%s+"):rep(first - 1) .. "(.*)$")
    if not line or line == "" then ctx:fail("Please specify a command following the thread ID list") end
    local saved_tid, saved_frame = snag.selected_thread(), snag.selected_frame()
    for _, n in ipairs(ids) do
      local th = by_num[n]
      if not th then
        ctx:printf("warning: Unknown thread %d\n", n)
      else
        snag.select_thread(th.tid)
        ctx:printf("\nThread %d (%s):\n", th.num, fmt.thread_label(th))
        local ok, err = pcall(snag.run, line)
        if not ok then ctx:print(tostring(err)) end
      end
    end
    snag.select_thread(saved_tid)
    -- Frame 0 needs no stack: selecting it again would symbolize one (DWARF line tables).
    if saved_frame ~= 0 then pcall(snag.select_frame, saved_frame) end
  end,
}
