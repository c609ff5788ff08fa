-- Wait Chain (patterns.md): thread A waits for a lock owned by B, which itself waits or runs —
-- the chains of the wait-for graph that do not close into a cycle.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")
local idle = require("snag.idle")
local app_frames = require("snag.app_frames")

return {
  id = "wait-chain",
  pattern = "Wait Chain",
  title = "Threads wait for locks other threads hold",
  description = "Non-cyclic chains in the wait-for graph: who waits for whom, through which lock.",
  severity = "warning",
  tags = { "default", "python", "synchronization", "hang" },
  targets = { "live", "core" },
  args = { max_chain = { default = 16, help = "longest wait chain followed" } },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local graph = facts.wait_graph()
    for _, chain in ipairs(graph.chains) do
      local through_gil = false
      for _, tid in ipairs(chain) do
        local e = graph.edges[tid]
        if e and e.kind == "gil" then through_gil = true end
      end
      -- GIL waits are gil-holder-blocked's business; a running GIL holder is no wait chain.
      if through_gil then goto next_chain end
      local parts, frames, inferred = {}, {}, {}
      for i = 1, math.min(#chain, args.max_chain) do
        local tid = chain[i]
        local e = graph.edges[tid]
        if e and e.owner then
          local what = e.kind == "gil" and "the GIL" or string.format("%s 0x%x", e.lock_kind or "lock", e.lock)
          parts[#parts + 1] = string.format("%s (tid %d) waits for %s at %s%s", facts.thread_name(tid), tid, what,
            wait_chain.where(e.frame), wait_chain.probable_text(e))
          if e.inferred then inferred[#inferred + 1] = { waiter = tid, lock = e.lock, owner = e.owner,
            owner_frame = e.owner_frame and wait_chain.where(e.owner_frame) } end
          frames[#frames + 1] = e.frame
        end
      end
      local last = chain[#chain]
      local py = graph.by_tid[last]
      local state = idle.classify(last)
      local doing = state.class == "running" and ("running in " .. wait_chain.where(app_frames.subject(py and py.frames)))
        or ("in " .. idle.describe(state))
      report{
        message = string.format("%s; the chain ends at %s (tid %d), which %s it and is %s", table.concat(parts, ", "),
          facts.thread_name(last), last, graph.edges[chain[#chain - 1]].inferred and "probably holds" or "holds", doing),
        threads = chain, frames = frames,
        evidence = { chain = chain, last_status = py and py.status, probable_owners = #inferred > 0 and inferred or nil },
      }
      ::next_chain::
    end
  end,
}
