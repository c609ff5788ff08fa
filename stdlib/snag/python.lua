-- Python helpers for commands: the selected thread's Python frames and a selected Python frame,
-- kept per OS thread as gdb's py-up/py-down do.
local M = {}

local selection = { tid = nil, stops = {}, index = 1 }

-- The Python thread running on the selected OS thread, or nil and gdb's message.
function M.thread(with_locals)
  local py = target.python
  if not py then return nil, "Unable to locate python frame" end
  local t = py:thread(snag.selected_thread(), { locals = with_locals })
  if not t then return nil, "Unable to locate python frame" end
  return t
end

-- The address a native frame's argument holds ("0x7f..." as `info args` prints a pointer), or nil.
local function arg_address(frame, name)
  for _, a in ipairs(frame:args() or {}) do
    if a.name == name then return tonumber((a.value or ""):match("^(0x%x+)")) end
  end
end

-- An eval-loop call in a native stack (a 3.x PyEval_EvalFrameEx wrapper right outside one is the same call).
local function eval_loop(f, previous)
  local name = f["function"] or ""
  if f.inlined then return false end
  if name == "PyEval_EvalFrameEx" then return not (previous and (previous["function"] or ""):match("^_PyEval_EvalFrameDefault")) end
  return name:match("^_PyEval_EvalFrameDefault$") ~= nil or name:match("^_PyEval_EvalFrameDefault%.") ~= nil
end

-- C frames libpython's py-bt shows by what they do (its is_other_python_frame).
local OTHER_FRAMES = { take_gil = "Waiting for the GIL", collect = "Garbage-collecting",
                       gc_collect_main = "Garbage-collecting" }

-- The built-in calls (PyCFunction objects) a thread's native stack runs among its Python frames,
-- found as gdb's libpython finds them (cfunction_vectorcall_*, cfunction_call and their `func`):
-- {{level = the Python frame that made the call, native = the native frame's level, text = repr}};
-- waiting for the GIL and garbage collection are listed among them, as libpython does.
-- Second result: {[Python level] = level of the native eval-loop frame running it}, the number
-- gdb gives a Python frame (py-up, py-bt-full).
function M.builtin_calls(t)
  local th = target:thread(t.tid)
  local out, natives, level, previous = {}, {}, 0, nil
  for _, nf in ipairs(th and th:stack() or {}) do
    local name = nf["function"] or ""
    if OTHER_FRAMES[name] then
      out[#out + 1] = { level = level, native = nf.level, text = OTHER_FRAMES[name] }
    elseif name:match("^cfunction_vectorcall_") or name == "cfunction_call" then
      local func = arg_address(nf, "func")
      out[#out + 1] = { level = level, native = nf.level,
                        text = func and target.python:repr(func) or "PyCFunction invocation (unable to read func)" }
    elseif eval_loop(nf, previous) then
      -- This eval-loop call ran the Python frames from `level` to the next entry frame.
      natives[level] = nf.level
      while t.frames[level + 1] and not t.frames[level + 1].entry do
        level = level + 1
        natives[level] = nf.level
      end
      level = level + 1
    end
    previous = nf
  end
  return out, natives
end

-- What py-up and py-down step through, innermost first, as gdb's libpython does: each built-in
-- call, GIL wait or collection ({call = entry of builtin_calls, level = the frame that made it})
-- and each Python frame ({level = its index}). Every stop has the number gdb shows for it.
local function stops_of(t)
  local calls, natives = M.builtin_calls(t)
  local stops, next_call = {}, 1
  for level = 0, #t.frames - 1 do
    while calls[next_call] and calls[next_call].level <= level do
      local c = calls[next_call]
      stops[#stops + 1] = { call = c, level = math.min(c.level, #t.frames - 1), number = c.native }
      next_call = next_call + 1
    end
    stops[#stops + 1] = { level = level, number = natives[level] or level }
  end
  return stops
end

-- The selected Python frame (innermost unless py-up/py-down moved it) and its thread. Like gdb's,
-- the selection starts at the innermost stop: the built-in call (or GIL wait) the innermost
-- Python frame is in, when there is one, so the first py-up selects the frame that called it.
-- A call's stop reads the frame that made the call.
function M.frame(with_locals)
  local t, err = M.thread(with_locals)
  if not t then return nil, err end
  if #t.frames == 0 then return nil, "Unable to locate python frame" end
  if selection.tid ~= t.tid or selection.generation ~= snag.generation() then
    selection.tid, selection.generation = t.tid, snag.generation()
    selection.stops, selection.index = stops_of(t), 1
  end
  return t.frames[selection.stops[selection.index].level + 1], t
end

-- Moves the selection by delta stops (older: positive); false when there is none there.
function M.move(delta)
  local f, t = M.frame(false)
  if not f then return false, t end
  local index = selection.index + delta
  if index < 1 or index > #selection.stops then return false end
  selection.index = index
  return true
end

-- The number gdb shows for the selected stop: the native frame level of the built-in call, or
-- of the eval loop running the frame (3.11+: one eval loop runs several frames).
function M.selected_number()
  return selection.stops[selection.index].number
end

-- The built-in call (or GIL wait, collection) selected ({native, text}), or nil.
function M.selected_builtin()
  return selection.stops[selection.index].call
end

-- Selects the innermost Python frame (not a call) whose stop has field == value; false if none.
local function select_stop(field, value)
  local _, t = M.frame(false)
  if not t then return false end
  for i, stop in ipairs(selection.stops) do
    if stop[field] == value and not stop.call then
      selection.index = i
      return true
    end
  end
  return false
end

-- Selects the innermost Python frame numbered n (selected_number); false when there is none.
function M.select_number(n) return select_stop("number", n) end

-- Selects Python frame `level` of the selected thread; false when there is no such frame.
function M.select(level) return select_stop("level", level) end

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

-- A lock owner by its thread, as `snag py-bt` names it: 'thread 1234 "worker-1", ident 0x7f...'.
local function owner_text(ident)
  for _, o in ipairs(target.python:threads()) do
    if o.thread_id == ident then
      return string.format("thread %d%s, ident 0x%x", o.tid, o.name ~= "" and (' "' .. o.name .. '"') or "", ident)
    end
  end
  return string.format("thread ident 0x%x", ident)
end

-- The lines `snag py-bt` prints below a thread's frames about locks: the one it waits on (an
-- RLock's owner by thread), and the plain Locks its open `with` blocks probably hold.
function M.lock_lines(t)
  local out, w = {}, t.waiting_on
  if w then
    local text = string.format("waiting on %s at 0x%x", w.type, w.address)
    local lock = w.lock
    if lock then
      text = text .. (lock.locked == nil and " (state unknown" or lock.locked and " (locked" or " (unlocked")
      if lock.kind == "RLock" and (lock.owner_thread_id or 0) ~= 0 then
        text = text .. string.format(", owner %s, count %d", owner_text(lock.owner_thread_id), lock.count)
      end
      text = text .. ")"
    end
    out[#out + 1] = text .. " in " .. w["function"]
  end
  for _, held in ipairs(t.with_locks or {}) do
    if not (held.frame == 1 and w and w.address == held.address) then
      local f = t.frames[held.frame]
      out[#out + 1] = string.format("holds Lock at 0x%x (inferred: its `with` block is open in %s)", held.address,
                                    f and f["function"] or "?")
    end
  end
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

-- "n=1, label='x'" from a frame's locals (as one repr, where the reader gave it: an instance met
-- again in a later local is <...>, as in gdb's frame summary).
function M.locals_text(f)
  if f.locals_line then return f.locals_line end
  local parts = {}
  for _, v in ipairs(f.locals) do parts[#parts + 1] = v.name .. "=" .. v.value end
  return table.concat(parts, ", ")
end

-- libpython's frame summary: "Frame 0x..., for file x.py, line 10, in worker (n=1)", cut at its
-- MAX_OUTPUT_LEN (1024) with "...(truncated)".
function M.summary(f)
  local text = string.format("Frame 0x%x, for file %s, line %d, in %s (%s)", f.address, f.file, f.line,
                             f["function"], M.locals_text(f))
  if #text > 1024 then text = text:sub(1, 1024) .. "...(truncated)" end
  return text
end

-- The source line a frame is at, or nil (read from the per-session file cache, no copy).
function M.current_line(f)
  local all = file_lines(f.file)
  return all and all[f.line]
end

return M
