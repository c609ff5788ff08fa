-- A Debugger Extension: two commands added without rebuilding snag.
--
--   snag repl 1234 --load examples/commands/busiest.lua
--   (snag) busiest 3
--   (snag) stack-grep lock
--
-- or copy this file to ~/.config/snag/commands/ to have them in every session.
-- See docs/lua-api.md for every binding used here.

local fmt = require("snag.format")

-- busiest [N]: the N threads that used the most CPU, with their innermost function.
command{
  name = "busiest",
  aliases = {"top-threads"},
  args = "[N]",
  help = "List the N threads (default 5) that consumed the most CPU time, busiest first,\n" ..
         "with where each one is now. CPU times come from /proc live and from the core's\n" ..
         "NT_PRSTATUS notes.",
  run = function(ctx, args)
    local n = math.tointeger(tonumber(args[1] or "5"))
    if not n or n < 1 then ctx:fail("N must be a positive number, not %s", args[1]) end
    local threads = target:threads()
    table.sort(threads, function(a, b) return (a.cpu or 0) > (b.cpu or 0) end)
    ctx:printf("%-4s %-8s %-16s %9s  %s\n", "Id", "LWP", "Name", "CPU (s)", "Innermost frame")
    for i = 1, math.min(n, #threads) do
      local th = threads[i]
      local top = th:frame(0)
      ctx:printf("%-4d %-8d %-16s %9.2f  %s\n", th.num, th.tid, th.name, th.cpu or 0,
                 top and (top["function"] or fmt.hex(top.pc)) or "(no stack)")
    end
  end,
}

-- stack-grep PATTERN: which threads have a frame whose function matches a Lua pattern.
command{
  name = "stack-grep",
  args = "PATTERN",
  help = "Show the threads whose native stack has a function matching PATTERN (a Lua\n" ..
         "pattern), and the matching frames. Example: stack-grep pthread_mutex",
  run = function(ctx, args)
    local pattern = args[1]
    if not pattern then ctx:fail("Usage: stack-grep PATTERN") end
    local hits = 0
    for _, th in ipairs(target:threads()) do
      local shown = false
      for _, f in ipairs(th:stack()) do
        local name = f["function"]
        if name and name:find(pattern) then
          if not shown then
            ctx:printf("Thread %d (%s):\n", th.num, fmt.thread_label(th))
            shown = true
            hits = hits + 1
          end
          ctx:print("  " .. fmt.frame_line(f))
        end
      end
    end
    if hits == 0 then ctx:printf("No thread has a frame matching %s.\n", pattern) end
  end,
}
