-- Wait Chain / Deadlock: the wait-for graph of Python threads. A thread waits for one thing
-- (a lock, the GIL); the thing may have an owner thread. Cycles are deadlocks; other paths are
-- wait chains.
local app_frames = require("snag.app_frames")

local M = {}

local function basename(p) return p and (p:match("[^/]+$") or p) or "?" end

-- One line for a Python frame: "transfer (app.py:27)".
function M.where(frame)
  if not frame then return "?" end
  return string.format("%s (%s:%s)", frame["function"] or "?", basename(frame.file), frame.line or "?")
end

-- Functions that wait on a plain Lock used as a signal, not as a mutex (join, Condition, Event).
M.signal_waits = {
  ["Thread._wait_for_tstate_lock"] = true, ["_wait_for_tstate_lock"] = true, ["Thread.join"] = true,
  ["join"] = true, ["Condition.wait"] = true, ["wait"] = true, ["Event.wait"] = true,
  ["Semaphore.acquire"] = true, ["Barrier.wait"] = true, ["Queue.get"] = true, ["get"] = true,
  ["Queue.put"] = true,
}

-- Builds {edges = {[tid] = edge}, cycles = {{tid...}}, chains = {{tid...}}} where an edge is
-- {from, kind = "lock"|"gil", lock, lock_kind, owner (tid or nil), frame, confirmed}.
function M.build(pythreads, gil_holder)
  local by_ident, by_tid = {}, {}
  for _, t in ipairs(pythreads) do
    if t.thread_id then by_ident[t.thread_id] = t end
    by_tid[t.tid] = t
  end
  local edges = {}
  for _, t in ipairs(pythreads) do
    local w = t.waiting_on
    if w and w.lock then
      local owner = w.lock.owner_thread_id
      local owner_thread = owner and owner ~= 0 and by_ident[owner] or nil
      edges[t.tid] = {
        from = t.tid, kind = "lock", lock = w.lock.address, lock_kind = w.lock.kind, type = w.type,
        owner = owner_thread and owner_thread.tid or nil, owner_ident = owner ~= 0 and owner or nil,
        frame = app_frames.subject(t.frames), library_frame = select(2, app_frames.subject(t.frames)),
        wait_function = w["function"],
        confirmed = owner_thread ~= nil, signal = M.signal_waits[w["function"] or ""] or false,
      }
    elseif t.waiting_for_gil and gil_holder and gil_holder ~= t.tid then
      edges[t.tid] = { from = t.tid, kind = "gil", owner = gil_holder, frame = app_frames.subject(t.frames),
                       confirmed = true }
    end
  end
  -- Each thread has at most one outgoing edge: follow it, marking the path, to find cycles.
  local cycles, in_cycle, state = {}, {}, {}
  local tids = {}
  for tid in pairs(edges) do tids[#tids + 1] = tid end
  table.sort(tids)
  for _, start in ipairs(tids) do
    local path, pos, tid = {}, {}, start
    while tid and edges[tid] and not state[tid] do
      state[tid] = "visiting"
      pos[tid] = #path + 1
      path[#path + 1] = tid
      tid = edges[tid].owner
    end
    if tid and pos[tid] and state[tid] == "visiting" then
      local cycle = {}
      for i = pos[tid], #path do cycle[#cycle + 1] = path[i]; in_cycle[path[i]] = true end
      cycles[#cycles + 1] = cycle
    end
    for _, p in ipairs(path) do state[p] = "done" end
  end
  -- Chains: maximal paths of confirmed edges that start at a thread nobody waits for.
  local waited = {}
  for _, e in pairs(edges) do if e.owner then waited[e.owner] = true end end
  local chains = {}
  for _, start in ipairs(tids) do
    if not in_cycle[start] and not waited[start] and edges[start].owner then
      local chain, seen, tid = {}, {}, start
      while tid and not seen[tid] and not in_cycle[tid] do
        seen[tid] = true
        chain[#chain + 1] = tid
        tid = edges[tid] and edges[tid].owner or nil
      end
      if tid and in_cycle[tid] then chain[#chain + 1] = tid end
      if #chain >= 2 then chains[#chains + 1] = chain end
    end
  end
  return { edges = edges, cycles = cycles, chains = chains, by_tid = by_tid, in_cycle = in_cycle }
end

return M
