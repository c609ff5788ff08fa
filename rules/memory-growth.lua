-- Memory Leak / Counter Value (patterns.md): RSS sampled over --duration while the process runs,
-- and for CPython 3.8-3.13 the objects the GC tracks, counted per type at the start and the end of
-- the interval; a steady rise is reported with its rate and the kinds of objects that grew most.
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

-- The types whose GC-tracked objects grew between the two censuses, most grown first.
local function heap_growth(heap, max_kinds)
  if not heap or heap.error or not heap.first or not heap.last then return nil end
  local grown = {}
  for name, n in pairs(heap.last.types) do
    local before = heap.first.types[name] or 0
    if n > before then grown[#grown + 1] = { type = name, first = before, last = n, delta = n - before } end
  end
  table.sort(grown, function(a, b) return a.delta > b.delta or (a.delta == b.delta and a.type < b.type) end)
  local top = {}
  for i = 1, math.min(#grown, max_kinds) do top[i] = grown[i] end
  return { objects = { heap.first.objects, heap.last.objects }, seconds = heap.seconds, top = top,
           complete = heap.first.complete and heap.last.complete, stop_ms = { heap.first.ms, heap.last.ms } }
end

local function kinds_text(growth)
  local parts = {}
  for _, k in ipairs(growth.top) do parts[#parts + 1] = string.format("%s +%d", k.type, k.delta) end
  return table.concat(parts, ", ")
end

return {
  id = "memory-growth",
  pattern = "Memory Leak",
  title = "Memory keeps growing",
  description = "Live: the resident set size sampled over --duration grows steadily by more than min_kb_per_s, "
    .. "or one type of Python object gains min_objects (CPython 3.8-3.13: GC-tracked objects counted per type).",
  severity = "warning",
  tags = { "default", "leak", "counter-value", "live", "heap" },
  targets = { "live" },
  args = {
    min_kb_per_s = { default = 256, help = "growth rate of RSS that counts (KiB per second)" },
    min_kb = { default = 1024, help = "growth of RSS over the interval that counts (KiB): a short sampling turns noise into a rate" },
    min_monotony = { default = 0.7, help = "share of samples that must not decrease" },
    min_objects = { default = 5000, help = "growth of one type of GC-tracked Python object that counts" },
    max_kinds = { default = 5, help = "growing object types named" },
  },
  check = function(t, args, report)
    local s = facts.samples
    if not s or #s.series < 3 then report.note("memory-growth needs live sampling (--duration > 0)"); return end
    local rate = slope(s.series, "rss_kb")
    local steady = monotony(s.series, "rss_kb")
    local growth = heap_growth(s.heap, args.max_kinds)
    local rss_grows = rate >= args.min_kb_per_s and steady >= args.min_monotony
      and s.series[#s.series].rss_kb - s.series[1].rss_kb >= args.min_kb
    local heap_grows = growth and growth.top[1] and growth.top[1].delta >= args.min_objects
      and growth.objects[2] > growth.objects[1]
    -- A census cut by its time limit stops at a different object each time: no growth to compare.
    if heap_grows and not growth.complete then
      report.note(string.format("the Python heap census was cut short (%d and %d objects counted "
        .. "before the time limit): object counts not compared", growth.objects[1], growth.objects[2]))
      heap_grows = false
    end
    if not rss_grows and not heap_grows then return end
    local first, last = s.series[1], s.series[#s.series]
    local parts = {}
    if rss_grows then
      parts[1] = string.format("RSS grew from %d to %d KiB in %.1f s (%.0f KiB/s, %d%% of samples rising)",
        first.rss_kb, last.rss_kb, last.t - first.t, rate, math.floor(steady * 100))
    end
    if growth and #growth.top > 0 then
      parts[#parts + 1] = string.format("Python objects %d -> %d in %.1f s, growing most: %s", growth.objects[1],
        growth.objects[2], growth.seconds or 0, kinds_text(growth))
    end
    local heap_evidence = growth or (s.heap and s.heap.error and { error = s.heap.error }) or nil
    report{
      message = table.concat(parts, "; "),
      evidence = { rss_kb = { first.rss_kb, last.rss_kb }, kb_per_s = rate, seconds = last.t - first.t, monotony = steady,
                   python_heap = heap_evidence },
      advice = growth and #growth.top > 0 and ("find who keeps the " .. growth.top[1].type .. " objects (gc.get_referrers, "
        .. "tracemalloc snapshots compare allocation sites)")
        or "sample longer, then look for containers that only grow (tracemalloc snapshots compare allocation sites)",
    }
  end,
}
