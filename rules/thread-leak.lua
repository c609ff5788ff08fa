-- Handle Leak / Stack Trace Set (patterns.md): many threads share one stack — a thread started
-- per request and never finished. Reports the dominant sets with counts and one representative;
-- with --baseline OLD, a set that gained min_growth threads since OLD whatever its size.
local facts = require("snag.facts")
local sets = require("snag.stack_trace_set")
local wait_chain = require("snag.wait_chain")

-- Python threads grouped by their stack (functions and files, not lines), largest set first.
local function stack_sets()
  return sets.group(facts.python_threads() or {}, function(py) return sets.python_key(py.frames) end)
end

return {
  id = "thread-leak",
  pattern = "Stack Trace Set",
  title = "Many threads share one stack (thread leak)",
  description = "Python threads grouped by their stack (functions and files); a set of at least min_threads threads is reported.",
  severity = "warning",
  tags = { "default", "python", "leak", "handle-leak" },
  targets = { "live", "core" },
  args = {
    min_threads = { default = 10, help = "threads with one stack that count as a leak" },
    min_growth = { default = 5, help = "with --baseline: threads of one stack gained since the baseline that count as a leak" },
  },
  applies = function(t) return t.python ~= nil end,
  -- Remembered of an earlier dump for --baseline: how many threads each stack had.
  baseline = function()
    local counts = {}
    for _, g in ipairs(stack_sets()) do counts[g.key] = g.count end
    return { counts = counts }
  end,
  check = function(t, args, report, baseline)
    local threads = facts.python_threads() or {}
    for _, g in ipairs(stack_sets()) do
      local fires, before, since = sets.against_baseline(g.count, g.key, baseline, args.min_threads, args.min_growth)
      if not fires then
        if before and g.count >= args.min_threads then
          report.note(string.format("%d Python threads share one stack (%s), not growing%s",
            g.count, wait_chain.where(g.items[1].frames[1]), since))
        end
        goto next_set
      end
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
        message = string.format("%d of %d Python threads share one stack: %s, started in %s%s", g.count, #threads,
          wait_chain.where(rep.frames[1]), origin and wait_chain.where(origin) or "?", since),
        threads = tids, frames = frames,
        origin = origin and ((origin.file or "?"):match("[^/]*$") .. "!" .. (origin["function"] or "?")) or nil,
        evidence = { count = g.count, total = #threads, stack = g.key, baseline_count = before },
        advice = "join or pool these threads (concurrent.futures.ThreadPoolExecutor) instead of starting one per task",
      }
      ::next_set::
    end
  end,
}
