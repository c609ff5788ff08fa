-- Memory Leak / Counter Value (patterns.md): RSS sampled over --duration while the process runs;
-- a steady rise is reported with its rate.
local facts = require("snag.facts")

-- Least-squares slope of y over t.
local function slope(points, key)
  local n, st, sy, stt, sty = #points, 0, 0, 0, 0
  for _, p in ipairs(points) do st = st + p.t; sy = sy + p[key]; stt = stt + p.t * p.t; sty = sty + p.t * p[key] end
  local d = n * stt - st * st
  if n < 3 or d == 0 then return 0 end
  return (n * sty - st * sy) / d
end

-- Fraction of steps that do not go down (a leak rises steadily; a GC sawtooth does not).
local function monotony(points, key)
  local up = 0
  for i = 2, #points do if points[i][key] >= points[i - 1][key] then up = up + 1 end end
  return up / math.max(1, #points - 1)
end

return {
  id = "memory-growth",
  pattern = "Memory Leak",
  title = "Memory keeps growing",
  description = "Live: the resident set size sampled over --duration grows steadily by more than min_kb_per_s.",
  severity = "warning",
  tags = { "default", "leak", "counter-value", "live" },
  targets = { "live" },
  args = {
    min_kb_per_s = { default = 256, help = "growth rate of RSS that counts (KiB per second)" },
    min_monotony = { default = 0.7, help = "share of samples that must not decrease" },
  },
  check = function(t, args, report)
    local s = facts.samples
    if not s or #s.series < 3 then report.note("memory-growth needs live sampling (--duration > 0)"); return end
    local rate = slope(s.series, "rss_kb")
    local steady = monotony(s.series, "rss_kb")
    if rate < args.min_kb_per_s or steady < args.min_monotony then return end
    local first, last = s.series[1], s.series[#s.series]
    report{
      message = string.format("RSS grew from %d to %d KiB in %.1f s (%.0f KiB/s, %d%% of samples rising)",
        first.rss_kb, last.rss_kb, last.t - first.t, rate, math.floor(steady * 100)),
      evidence = { rss_kb = { first.rss_kb, last.rss_kb }, kb_per_s = rate, seconds = last.t - first.t, monotony = steady },
      advice = "sample longer, then look for containers that only grow (tracemalloc snapshots compare allocation sites)",
    }
  end,
}
