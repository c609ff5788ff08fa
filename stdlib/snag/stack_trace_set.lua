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

return M
