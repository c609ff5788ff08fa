-- Handle Leak / Counter Value (patterns.md): file descriptors and threads sampled over --duration
-- while the process runs; a count that only grows is reported.
local facts = require("snag.facts")

return {
  id = "handle-growth",
  pattern = "Handle Leak",
  title = "File descriptors or threads keep growing",
  description = "Live: the fd count or the thread count grows by at least min_increase over --duration and never shrinks.",
  severity = "warning",
  tags = { "default", "leak", "handle-leak", "counter-value", "live" },
  targets = { "live" },
  args = { min_increase = { default = 2, help = "growth over the sampling interval that counts" } },
  check = function(t, args, report)
    local s = facts.samples
    if not s or #s.series < 3 then report.note("handle-growth needs live sampling (--duration > 0)"); return end
    for _, kind in ipairs({ "threads", "fds" }) do
      local first, last, shrank = s.series[1][kind], s.series[#s.series][kind], false
      for i = 2, #s.series do if s.series[i][kind] < s.series[i - 1][kind] then shrank = true end end
      if last - first >= args.min_increase and not shrank then
        local seconds = s.series[#s.series].t - s.series[1].t
        report{
          message = string.format("%s grew from %d to %d in %.1f s (%.1f per second) and never went down",
            kind == "fds" and "open file descriptors" or "threads", first, last, seconds, (last - first) / seconds),
          evidence = { kind = kind, first = first, last = last, seconds = seconds },
          advice = kind == "threads" and "see thread-leak for the stack the new threads share" or "list them with ls -l /proc/PID/fd",
        }
      end
    end
  end,
}
