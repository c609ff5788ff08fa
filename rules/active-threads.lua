-- Active Thread (patterns.md): the threads that run rather than wait — live, those that used CPU
-- or were runnable during the --duration sampling; in one line, with where each one is.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

return {
  id = "active-threads",
  pattern = "Active Thread",
  title = "Threads that are running",
  description = "Live: threads that used more than min_share of a CPU, or were runnable in most samples, during --duration.",
  severity = "info",
  tags = { "default", "cpu" },
  targets = { "live" },
  args = { min_share = { default = 0.05, help = "share of one CPU that makes a thread active" } },
  check = function(t, args, report)
    local s = facts.samples
    if not s or not s.duration or s.duration <= 0 then return end
    local active, parts, frames = {}, {}, {}
    for _, sample in ipairs(s.threads) do
      local share = sample.cpu / s.duration
      if share >= args.min_share or (sample.runnable or 0) >= 0.5 then
        active[#active + 1] = sample.tid
        local py = facts.python_by_tid()[sample.tid]
        local top = py and py.frames and py.frames[1]
        parts[#parts + 1] = string.format("%s (tid %d, %d%% CPU%s)", facts.thread_name(sample.tid), sample.tid,
          math.floor(share * 100 + 0.5), top and (", " .. wait_chain.where(top)) or "")
        if top then frames[#frames + 1] = top end
      end
    end
    if #active == 0 then return end
    report{
      message = string.format("%d of %d threads ran during %.1f s: %s", #active, #s.threads, s.duration,
        table.concat(parts, "; ")),
      threads = active, frames = frames, evidence = { seconds = s.duration },
    }
  end,
}
