-- Stack Trace Set: the distinct stacks of a Stack Trace Collection, grouped, largest first.
local M = {}

local function basename(p) return p and (p:match("[^/]+$") or p) or "?" end

-- Key of a Python stack: function@file of its frames (lines left out: a loop moves them).
function M.python_key(frames, depth)
  local parts = {}
  for i = 1, math.min(#frames, depth or 64) do
    local f = frames[i]
    parts[#parts + 1] = (f["function"] or "?") .. "@" .. basename(f.file)
  end
  return table.concat(parts, "<")
end

-- Key of a native stack: module!function of its frames.
function M.native_key(frames, depth)
  local parts = {}
  for i = 1, math.min(#frames, depth or 64) do
    local f = frames[i]
    parts[#parts + 1] = basename(f.module) .. "!" .. (f["function"] or string.format("0x%x", f.pc or 0))
  end
  return table.concat(parts, "<")
end

-- Groups items by key_of(item): {{key, items = {...}, count}}, largest set first.
function M.group(items, key_of)
  local sets, by_key = {}, {}
  for _, item in ipairs(items) do
    local key = key_of(item)
    local set = by_key[key]
    if not set then
      set = { key = key, items = {} }
      by_key[key] = set
      sets[#sets + 1] = set
    end
    set.items[#set.items + 1] = item
  end
  for _, s in ipairs(sets) do s.count = #s.items end
  table.sort(sets, function(a, b) if a.count ~= b.count then return a.count > b.count end return a.key < b.key end)
  return sets
end

-- The frames one thread never left over several samples of its Python stack (innermost first,
-- each as the last sample has it): a loop's frames. Frames are compared by function@file (a loop
-- moves the lines), so the innermost frames may differ between samples (a library call inside
-- the loop). Returns frames and the lines the innermost of them was seen at, or nil and why:
-- no frame is common to every sample, or in some sample more than max_inner frames for which
-- counts(frame) is true run inside the innermost common one (the thread runs different code
-- each time, e.g. a server handling different requests: only its dispatch loop is common).
function M.common_frames(samples, max_inner, counts)
  if #samples == 0 then return nil, "no sample" end
  local function key(f) return (f["function"] or "?") .. "@" .. (f.file or "?") end
  local seen_in = {}
  for _, frames in ipairs(samples) do
    local here = {}
    for _, f in ipairs(frames) do
      local k = key(f)
      if not here[k] then here[k] = true; seen_in[k] = (seen_in[k] or 0) + 1 end
    end
  end
  local lines, line_set = {}, {}
  for _, frames in ipairs(samples) do
    local inner, found = 0, nil
    for _, f in ipairs(frames) do
      if seen_in[key(f)] == #samples then found = f; break end
      if not counts or counts(f) then inner = inner + 1 end
    end
    if not found then return nil, "no Python frame is common to the samples" end
    if inner > max_inner then
      return nil, string.format("%d frames run inside %s in one sample: different code each time", inner,
        found["function"] or "?")
    end
    if found.line and not line_set[found.line] then line_set[found.line] = true; lines[#lines + 1] = found.line end
  end
  table.sort(lines)
  local out = {}
  for _, f in ipairs(samples[#samples]) do
    if seen_in[key(f)] == #samples then out[#out + 1] = f end
  end
  return out, lines
end

-- A set of n items against an earlier dump's (analyze --baseline; baseline.counts[key], a rule's
-- baseline() result). Without a baseline the set fires at min_count; with one, when it gained
-- min_growth since. Returns fires, the earlier count (nil without a baseline) and the words a
-- finding or note adds: " (B in the baseline dump PATH)".
function M.against_baseline(n, key, baseline, min_count, min_growth)
  if not baseline then return n >= min_count, nil, "" end
  local before = baseline.counts[key] or 0
  return n - before >= min_growth, before, string.format(" (%d in the baseline dump %s)", before, baseline.source or "")
end

return M
