-- Python helpers for commands: the selected thread's Python frames and a selected Python frame,
-- kept per OS thread as gdb's py-up/py-down do.
local M = {}

local selection = { tid = nil, level = 0 }

-- The Python thread running on the selected OS thread, or nil and gdb's message.
function M.thread(with_locals)
  local py = target.python
  if not py then return nil, "Unable to locate python frame" end
  local t = py:thread(snag.selected_thread(), { locals = with_locals })
  if not t then return nil, "Unable to locate python frame" end
  return t
end

-- The selected Python frame (innermost unless py-up/py-down moved it) and its thread.
function M.frame(with_locals)
  local t, err = M.thread(with_locals)
  if not t then return nil, err end
  if #t.frames == 0 then return nil, "Unable to locate python frame" end
  if selection.tid ~= t.tid or selection.generation ~= snag.generation() then
    selection.tid, selection.level, selection.generation = t.tid, 0, snag.generation()
  end
  return t.frames[selection.level + 1], t
end

-- Moves the selection by delta frames; false when there is no frame there.
function M.move(delta)
  local f, t = M.frame(false)
  if not f then return false, t end
  local level = selection.level + delta
  if level < 0 or level >= #t.frames then return false end
  selection.level = level
  return true
end

function M.selected_level() return selection.level end

-- Selects Python frame `level` of the selected thread; false when there is no such frame.
function M.select(level)
  local _, t = M.frame(false)
  if not t or level < 0 or level >= #t.frames then return false end
  selection.level = level
  return true
end

-- Function names of the selected thread's Python frames, innermost first, without repeats
-- (tab completion of py-frame). Empty when the thread runs no Python.
function M.function_names()
  local t = M.thread(false)
  local out, seen = {}, {}
  for _, f in ipairs(t and t.frames or {}) do
    local name = f["function"]
    if name and not seen[name] then
      seen[name] = true
      out[#out + 1] = name
    end
  end
  return out
end

-- Local variable names of the selected Python frame (tab completion of py-print).
function M.local_names()
  local f = M.frame(true)
  local out = {}
  for _, v in ipairs(f and f.locals or {}) do out[#out + 1] = v.name end
  return out
end

-- Files read once per session: `thread apply all py-bt` shows the same lines many times.
local files = {}

local function file_lines(file)
  local cached = files[file]
  if cached ~= nil then return cached or nil end
  -- The target's file (through /proc/PID/root or --sysroot), not a same-named one of this machine.
  local here = target and target.file and target:file(file)
  local f = here and io.open(here, "r")
  if not f then
    files[file] = false
    return nil
  end
  local lines = {}
  for line in f:lines() do lines[#lines + 1] = line end
  f:close()
  files[file] = lines
  return lines
end

-- Lines first..last of file (a table indexed by line number), or nil when it cannot be read here.
function M.source_lines(file, first, last)
  local all = file_lines(file)
  if not all then return nil end
  local lines = {}
  for n = math.max(first, 1), math.min(last, #all) do lines[n] = all[n] end
  return lines
end

-- "n=1, label='x'" from a frame's locals.
function M.locals_text(f)
  local parts = {}
  for _, v in ipairs(f.locals) do parts[#parts + 1] = v.name .. "=" .. v.value end
  return table.concat(parts, ", ")
end

-- libpython's frame summary: "Frame 0x..., for file x.py, line 10, in worker (n=1)".
function M.summary(f)
  return string.format("Frame 0x%x, for file %s, line %d, in %s (%s)", f.address, f.file, f.line,
                       f["function"], M.locals_text(f))
end

-- The source line a frame is at, or nil (read from the per-session file cache, no copy).
function M.current_line(f)
  local all = file_lines(f.file)
  return all and all[f.line]
end

return M
