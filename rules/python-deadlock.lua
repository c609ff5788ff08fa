-- Deadlock (patterns.md): a cycle in the wait-for graph of Python threads, built from RLock owners
-- and the GIL holder. Plain Locks record no owner: threads blocked on them are reported as an
-- unconfirmed deadlock with the evidence there is.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

local function evidence_of(graph, tid)
  local e = graph.edges[tid]
  local py = graph.by_tid[tid]
  return {
    tid = tid, name = facts.thread_name(tid), waits_at = e.frame and wait_chain.where(e.frame),
    lock = e.lock, lock_kind = e.kind == "gil" and "GIL" or e.lock_kind, owner = e.owner,
    python_frames = py and #py.frames or 0,
  }
end

return {
  id = "python-deadlock",
  pattern = "Deadlock",
  title = "Python threads wait for each other's locks",
  description = "Cycles in the wait-for graph of Python threads (RLock owners, the GIL); threads "
    .. "blocked on plain Locks whose owner Python does not record are reported as unconfirmed.",
  severity = "error",
  tags = { "default", "python", "synchronization", "hang" },
  targets = { "live", "core" },
  args = {
    unconfirmed = { default = true, help = "also report threads blocked on owner-less plain Locks" },
  },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local graph = facts.wait_graph()
    for _, cycle in ipairs(graph.cycles) do
      local parts, threads, frames, links = {}, {}, {}, {}
      for _, tid in ipairs(cycle) do
        local e = graph.edges[tid]
        local what = e.kind == "gil" and "the GIL" or string.format("%s 0x%x", e.lock_kind or "lock", e.lock)
        parts[#parts + 1] = string.format("%s waits for %s at %s (held by %s)", facts.thread_name(tid), what,
          wait_chain.where(e.frame), facts.thread_name(e.owner))
        threads[#threads + 1] = tid
        frames[#frames + 1] = e.frame
        links[#links + 1] = evidence_of(graph, tid)
      end
      report{
        message = string.format("deadlock among %d threads: %s", #cycle, table.concat(parts, "; ")),
        threads = threads, frames = frames, evidence = { cycle = links, confirmed = true },
        advice = "take the locks in one global order, or use timeouts and back off",
      }
    end
    if not args.unconfirmed then return end
    -- Threads that wait on a plain Lock (used as a mutex, not as join/Event/Condition signal).
    local blocked = {}
    for tid, e in pairs(graph.edges) do
      if e.kind == "lock" and not e.confirmed and not e.signal and not graph.in_cycle[tid] then
        blocked[#blocked + 1] = tid
      end
    end
    table.sort(blocked)
    if #blocked == 0 then return end
    local parts, frames, links = {}, {}, {}
    for _, tid in ipairs(blocked) do
      local e = graph.edges[tid]
      parts[#parts + 1] = string.format("%s waits for %s 0x%x at %s", facts.thread_name(tid), e.lock_kind or "lock",
        e.lock, wait_chain.where(e.frame))
      frames[#frames + 1] = e.frame
      links[#links + 1] = evidence_of(graph, tid)
    end
    report{
      severity = "warning",
      message = string.format("possible deadlock (unconfirmed: plain Locks record no owner): %s", table.concat(parts, "; ")),
      threads = blocked, frames = frames, evidence = { waiting = links, confirmed = false },
      advice = "use threading.RLock to record owners, or check which code path acquired these locks without releasing them",
    }
  end,
}
