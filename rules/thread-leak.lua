-- Handle Leak / Stack Trace Set (patterns.md): many threads share one stack — a thread started
-- per request and never finished. Reports the dominant sets with counts and one representative.
local facts = require("snag.facts")
local sets = require("snag.stack_trace_set")
local wait_chain = require("snag.wait_chain")

return {
  id = "thread-leak",
  pattern = "Stack Trace Set",
  title = "Many threads share one stack (thread leak)",
  description = "Python threads grouped by their stack (functions and files); a set of at least min_threads threads is reported.",
  severity = "warning",
  tags = { "default", "python", "leak", "handle-leak" },
  targets = { "live", "core" },
  args = { min_threads = { default = 10, help = "threads with one stack that count as a leak" } },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local threads = facts.python_threads() or {}
    local groups = sets.group(threads, function(py) return sets.python_key(py.frames) end)
    for _, g in ipairs(groups) do
      if g.count < args.min_threads then break end
      local rep = g.items[1]
      local tids = {}
      for i, py in ipairs(g.items) do tids[i] = py.tid end
      local frames = {}
      for i = 1, math.min(#rep.frames, 8) do frames[i] = rep.frames[i] end
      local origin
      for i = #rep.frames, 1, -1 do
        local f = rep.frames[i]
        if f.file and not f.file:find("/threading.py", 1, true) then origin = f; break end
      end
      report{
        message = string.format("%d of %d Python threads share one stack: %s, started in %s", g.count, #threads,
          wait_chain.where(rep.frames[1]), origin and wait_chain.where(origin) or "?"),
        threads = tids, frames = frames,
        origin = origin and ((origin.file or "?"):match("[^/]*$") .. "!" .. (origin["function"] or "?")) or nil,
        evidence = { count = g.count, total = #threads, stack = g.key },
        advice = "join or pool these threads (concurrent.futures.ThreadPoolExecutor) instead of starting one per task",
      }
    end
  end,
}
