-- Blocked Thread, asyncio flavour: the event loop's thread sits in a blocking call (time.sleep,
-- a threading lock, a synchronous socket) inside a task, so no other task or callback runs.
local facts = require("snag.facts")
local blocked = require("snag.blocked_thread")
local wait_chain = require("snag.wait_chain")

-- The loop thread is blocked when it released the GIL in a waiting call (not in the selector:
-- a task runs) or, without native frames, when it released the GIL and is not on a CPU.
local function blocking_call(tid, py)
  local call = blocked.waiting_call(facts.stack(tid), 8)
  if call then return ((call["function"] or "?"):gsub("^__GI_", ""):gsub("^_+", "")) end
  local th = target:thread(tid)
  if py and not py.gil and not py.waiting_for_gil and th and th.state ~= "R" then return "a blocking call" end
  return nil
end

return {
  id = "event-loop-blocked",
  pattern = "Blocked Thread",
  title = "An asyncio event loop is blocked by a synchronous call",
  description = "The event loop's thread is inside a blocking call (time.sleep, a lock, a synchronous "
    .. "socket) made by a running task, while other tasks wait for the loop.",
  severity = "error",
  tags = { "default", "python", "asyncio", "hang" },
  targets = { "live", "core" },
  args = { min_waiting = { default = 1, help = "other tasks of the loop that must be waiting for it" } },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local tasks = facts.python_tasks()
    if not tasks then return end
    for _, loop in ipairs(tasks.loops) do
      local running, ready, others = nil, {}, 0
      for _, task in ipairs(tasks) do
        if task.loop == loop.address then
          if task.running then running = task
          elseif task.state == "pending" then
            others = others + 1
            if task.kind == "ready" then ready[#ready + 1] = task.name end
          end
        end
      end
      local py = loop.tid and facts.python_by_tid()[loop.tid]
      local call = running and loop.tid and blocking_call(loop.tid, py)
      if call and others >= args.min_waiting then
        local top = running.frames[1]
        report{
          message = string.format("event loop on %s is blocked in %s called by task '%s' at %s; %d ready task(s)%s "
            .. "and %d other pending task(s) cannot run", facts.thread_name(loop.tid), call, running.name,
            wait_chain.where(top), #ready, #ready > 0 and " (" .. table.concat(ready, ", ", 1, math.min(#ready, 5)) .. ")" or "",
            others - #ready),
          threads = { loop.tid }, frames = { top },
          evidence = { task = running.name, blocking_call = call, ready = ready, pending = others },
          advice = "never block the loop's thread: await asyncio.sleep instead of time.sleep, use asyncio "
            .. "locks and streams, or move the blocking call to a thread with asyncio.to_thread / run_in_executor",
        }
      end
    end
  end,
}
