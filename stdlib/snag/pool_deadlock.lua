-- ThreadPoolExecutor self-deadlock: the workers of the process's thread pools all wait in
-- Future.result() and one of the futures they wait for is still PENDING, queued, never started.
-- A pool starts a worker per submit until max_workers run, so a pending future with every worker
-- busy means max_workers are busy; none of them can take it, and the waits never end.
local facts = require("snag.facts")

local M = {}

local function in_file(f, suffix)
  return (f.file or ""):sub(-#suffix) == suffix
end

local function is_worker(frames)
  for _, f in ipairs(frames) do
    if f["function"] == "_worker" and in_file(f, "concurrent/futures/thread.py") then return true end
  end
  return false
end

-- Index of the Future.result (or Future.exception) frame a thread waits in, or nil.
local function waiting_frame(frames)
  for i = 1, math.min(#frames, 6) do
    local fn = (frames[i]["function"] or ""):match("([^.]+)$")
    if (fn == "result" or fn == "exception") and in_file(frames[i], "concurrent/futures/_base.py") then return i end
  end
  return nil
end

-- The future's state from the frame's `self` (libpython's repr: <Future(..., _state='PENDING', ...)>).
local function future_state(tid, index)
  local ok, t = pcall(target.python.thread, target.python, tid, { locals = true })
  local f = ok and t and t.frames and t.frames[index]
  for _, v in ipairs(f and f.locals or {}) do
    if v.name == "self" then return v.value:match("_state='(%u+)'") end
  end
  return nil
end

-- nil, or { workers = {tid...}, pending = {tid...} (workers waiting on a pending future),
-- waiters = {tid...} (other threads waiting on a future), frames = {[tid] = Python frames} }.
function M.find()
  return facts.memo("pool_deadlock", function()
    local py = facts.python_threads()
    if not py then return false end
    local found = { workers = {}, pending = {}, waiters = {}, frames = {} }
    for _, t in ipairs(py) do
      local frames = t.frames or {}
      local worker = is_worker(frames)
      local at = waiting_frame(frames)
      if worker and not at then return false end  -- a worker that is free (or running): progress
      if at then
        found.frames[t.tid] = frames
        if worker then
          found.workers[#found.workers + 1] = t.tid
          if future_state(t.tid, at) == "PENDING" then found.pending[#found.pending + 1] = t.tid end
        else
          found.waiters[#found.waiters + 1] = t.tid
        end
      end
    end
    return #found.pending > 0 and found or false
  end) or nil
end

-- Threads the deadlock explains (its workers and the threads waiting on futures), as a set.
function M.explained()
  local found = M.find()
  local out = {}
  for _, list in ipairs(found and { found.workers, found.waiters } or {}) do
    for _, tid in ipairs(list) do out[tid] = true end
  end
  return out
end

return M
