-- Deadlock (patterns.md): a cycle in the wait-for graph of Python threads, built from RLock owners,
-- the GIL holder and the probable owners of plain Locks (a thread whose `with` block on the lock is
-- open: "probable deadlock", evidence.confirmed = false). No cycle, no deadlock.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

local function evidence_of(graph, tid)
  local e = graph.edges[tid]
  local py = graph.by_tid[tid]
  return {
    tid = tid, name = facts.thread_name(tid), waits_at = e.frame and wait_chain.where(e.frame),
    lock = e.lock, lock_kind = e.kind == "gil" and "GIL" or e.lock_kind, owner = e.owner,
    probable_owner = e.inferred or nil, owner_frame = e.owner_frame and wait_chain.where(e.owner_frame),
    python_frames = py and #py.frames or 0,
  }
end

return {
  id = "python-deadlock",
  pattern = "Deadlock",
  title = "Python threads wait for each other's locks",
  description = "Cycles in the wait-for graph of Python threads (RLock owners, the GIL, a plain Lock's probable "
    .. "owner: the thread whose `with` block on it is open). No cycle, no deadlock.",
  severity = "error",
  tags = { "default", "python", "synchronization", "hang" },
  targets = { "live", "core" },
  args = {},
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local graph = facts.wait_graph()
    for _, cycle in ipairs(graph.cycles) do
      local parts, threads, frames, links, inferred = {}, {}, {}, {}, false
      for _, tid in ipairs(cycle) do
        local e = graph.edges[tid]
        local what = e.kind == "gil" and "the GIL" or string.format("%s 0x%x", e.lock_kind or "lock", e.lock)
        parts[#parts + 1] = string.format("%s waits for %s at %s (%s by %s%s)", facts.thread_name(tid), what,
          wait_chain.where(e.frame), e.inferred and "probably held" or "held", facts.thread_name(e.owner),
          e.inferred and (": its `with` block is open at " .. wait_chain.where(e.owner_frame)) or "")
        inferred = inferred or e.inferred
        threads[#threads + 1] = tid
        frames[#frames + 1] = e.frame
        links[#links + 1] = evidence_of(graph, tid)
      end
      report{
        message = string.format("%sdeadlock among %d threads: %s", inferred and "probable " or "", #cycle,
          table.concat(parts, "; ")),
        threads = threads, frames = frames, evidence = { cycle = links, confirmed = not inferred },
        advice = "take the locks in one global order, or use timeouts and back off",
      }
    end
  end,
}
