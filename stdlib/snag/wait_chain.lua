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

-- A plain Lock records no owner. Its probable owner is the one thread with a `with` block open
-- on it (the block's __exit__ on a frame's value stack: py thread .with_locks): that thread and
-- frame, or nil when none or several show one. A `with` in the innermost frame of a thread that
-- waits for the lock is the block it is entering (≤3.11 and 3.14+ push __exit__ first), not a hold.
function M.probable_owner(pythreads, lock)
  local found, frame
  for _, t in ipairs(pythreads) do
    local entering = t.waiting_on and t.waiting_on.address == lock
    for _, held in ipairs(t.with_locks or {}) do
      if held.address == lock and not (entering and held.frame == 1) then
        if found and found ~= t then return nil end
        found, frame = t, frame or (t.frames and t.frames[held.frame])
      end
    end
  end
  return found, frame
end

-- ", probable owner Worker-1 (its `with` block is open at refresh (app.py:22))" for an inferred
-- edge, "" for the others.
function M.probable_text(e)
  if not e.inferred then return "" end
  local name = require("snag.facts").thread_name(e.owner)
  return string.format(", probable owner %s (tid %d: its `with` block is open at %s)", name, e.owner, M.where(e.owner_frame))
end

-- Builds {edges = {[tid] = edge}, cycles = {{tid...}}, chains = {{tid...}}} where an edge is
-- {from, kind = "lock"|"gil", lock, lock_kind, owner (tid or nil), frame, confirmed, inferred,
-- owner_frame}: inferred edges name a Lock's probable owner (M.probable_owner).
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
      local signal = M.signal_waits[w["function"] or ""] or false
      local probable, owner_frame
      if not owner_thread and w.lock.kind == "Lock" and not signal then
        probable, owner_frame = M.probable_owner(pythreads, w.lock.address)
      end
      edges[t.tid] = {
        from = t.tid, kind = "lock", lock = w.lock.address, lock_kind = w.lock.kind, type = w.type,
        owner = (owner_thread or probable) and (owner_thread or probable).tid or nil,
        owner_ident = owner ~= 0 and owner or nil, inferred = probable ~= nil, owner_frame = owner_frame,
        frame = app_frames.subject(t.frames), library_frame = select(2, app_frames.subject(t.frames)),
        wait_function = w["function"],
        confirmed = owner_thread ~= nil, signal = signal,
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
  -- Chains: maximal paths of edges with an owner (confirmed or probable) from a thread nobody waits for.
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
