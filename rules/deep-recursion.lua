-- Deep recursion: a Python stack close to the recursion limit, with its repeating frame cycle.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

-- Shortest period p (<= max_period) such that the innermost frames repeat with period p.
-- The cycle may start below a few non-repeating innermost frames (a wait in the deepest call).
local function cycle_of(frames, max_period, max_skip)
  local function key(f) return (f["function"] or "?") .. "@" .. (f.file or "?") end
  for start = 1, math.min(max_skip, #frames) do
    for p = 1, max_period do
      local repeats = 0
      local i = start
      while i + p <= #frames and key(frames[i]) == key(frames[i + p]) do
        repeats = repeats + 1
        i = i + 1
      end
      if repeats >= 4 * p then return p, repeats + p, start end
    end
  end
  return nil
end

return {
  id = "deep-recursion",
  pattern = "Stack Overflow",
  title = "A Python stack is close to the recursion limit",
  description = "Threads with more Python frames than min_depth whose innermost frames repeat.",
  severity = "warning",
  tags = { "default", "python", "recursion" },
  targets = { "live", "core" },
  args = {
    min_depth = { default = 300, help = "Python frames that count as deep (sys.getrecursionlimit() is 1000 by default)" },
    max_period = { default = 8, help = "longest repeating cycle looked for" },
  },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    for _, py in ipairs(facts.python_threads() or {}) do
      local n = #py.frames
      if n >= args.min_depth then
        local period, span, start = cycle_of(py.frames, args.max_period, 32)
        if period then
          local cycle, frames = {}, {}
          for i = 1, period do cycle[i] = py.frames[start + i - 1]["function"] or "?"; frames[i] = py.frames[start + i - 1] end
          report{
            message = string.format("%s is %d Python frames deep; %d frames repeat the cycle %s (from %s)",
              py.name or tostring(py.tid), n, span, table.concat(cycle, " -> "), wait_chain.where(py.frames[start])),
            threads = { py.tid }, frames = frames,
            evidence = { depth = n, period = period, repeating_frames = span, cycle = cycle },
          }
        end
      end
    end
  end,
}
