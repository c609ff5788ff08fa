-- ThreadPoolExecutor self-deadlock (Deadlock, patterns.md): every worker of the process's thread
-- pools waits in Future.result() and a future one of them waits for is PENDING: queued behind the
-- workers that wait for it, it never starts (snag.pool_deadlock). The subject is the application
-- frame that called result() (render_page), not Condition.wait or Future.result.
local facts = require("snag.facts")
local pool_deadlock = require("snag.pool_deadlock")
local app_frames = require("snag.app_frames")
local wait_chain = require("snag.wait_chain")

local function named(tids)
  local out = {}
  for i, tid in ipairs(tids) do out[i] = string.format("%s (tid %d)", facts.thread_name(tid), tid) end
  return table.concat(out, ", ")
end

return {
  id = "pool-self-deadlock",
  pattern = "Deadlock",
  title = "Thread pool workers wait for futures queued on their own pool",
  description = "Every ThreadPoolExecutor worker waits in Future.result() and a future they wait for was never "
    .. "started (PENDING): with max_workers busy no worker can run it, so the waits never end.",
  severity = "error",
  tags = { "default", "python", "synchronization", "hang" },
  targets = { "live", "core" },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local found = pool_deadlock.find()
    if not found then return end
    local threads, frames, subjects = {}, {}, {}
    for _, list in ipairs({ found.pending, found.workers, found.waiters }) do
      for _, tid in ipairs(list) do
        if not subjects[tid] then
          local app, library = app_frames.subject(found.frames[tid])
          subjects[tid] = { app = app, library = library }
          threads[#threads + 1] = tid
          frames[#frames + 1] = app
        end
      end
    end
    local first = subjects[found.pending[1]]
    local where = first.app and wait_chain.where(first.app) or "?"
    report{
      message = string.format("%s waits in Future.result() at %s for a future queued on its own pool, which "
        .. "never starts: all %d worker(s) of the pool wait too%s", named({ found.pending[1] }), where,
        #found.workers, #found.waiters > 0 and ("; also waiting: " .. named(found.waiters)) or ""),
      threads = threads, frames = frames,
      evidence = { workers = found.workers, pending = found.pending, waiters = found.waiters,
                   library_frame = first.library and wait_chain.where(first.library) or nil },
      advice = "do not wait for a future from inside a task of the same executor (run it inline, "
        .. "use another executor, or raise max_workers)",
    }
  end,
}
