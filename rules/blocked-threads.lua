-- Blocked Thread / Hang (patterns.md): every thread waits and none runs. Summarises what each
-- waits on, grouped, so a hang reads as "2 threads in RLock.acquire at app.py:19, 1 in join".
local facts = require("snag.facts")
local blocked = require("snag.blocked_thread")
local wait_chain = require("snag.wait_chain")
local sets = require("snag.stack_trace_set")

-- What thread tid waits on, as one short phrase; nil when it does not wait.
local function waits_on(tid)
  local py = facts.python_by_tid()[tid]
  if py then
    local top = py.frames and py.frames[1]
    if py.waiting_on then
      return string.format("%s in %s", py.waiting_on.type or "a lock", wait_chain.where(top)), top
    end
    if py.waiting_for_gil then return "the GIL in " .. wait_chain.where(top), top end
  end
  local call = blocked.waiting_call(facts.stack(tid), 6)
  if not call then return nil end
  local top = py and py.frames and py.frames[1]
  if top then return string.format("%s in %s", call["function"], wait_chain.where(top)), top end
  local module = blocked.blocking_module(facts.stack(tid))
  return string.format("%s from %s", call["function"], module and (module["function"] or "?") or "?"), call
end

return {
  id = "blocked-threads",
  pattern = "Blocked Thread",
  title = "Every thread is blocked (hang)",
  description = "No thread runs: each waits on a lock, the GIL or a waiting system call. Groups them by what they wait on.",
  severity = "warning",
  tags = { "default", "hang" },
  targets = { "live", "core" },
  args = { max_cpu_share = { default = 0.05, help = "live: a thread using more of a CPU than this is running" } },
  check = function(t, args, report)
    local samples = facts.samples
    if samples and samples.duration and samples.duration > 0 then
      for _, s in ipairs(samples.threads) do
        if s.cpu / samples.duration > args.max_cpu_share or (s.runnable or 0) >= 0.8 then return end
      end
    end
    local waiting = {}
    for _, th in ipairs(facts.threads()) do
      local what, frame = waits_on(th.tid)
      if not what then return end   -- a running thread: no hang
      waiting[#waiting + 1] = { tid = th.tid, what = what, frame = frame }
    end
    if #waiting == 0 then return end
    local groups = sets.group(waiting, function(w) return w.what end)
    local parts, frames, threads = {}, {}, {}
    for _, g in ipairs(groups) do
      parts[#parts + 1] = string.format("%d waiting for %s", g.count, g.key)
      frames[#frames + 1] = g.items[1].frame
    end
    for _, w in ipairs(waiting) do threads[#threads + 1] = w.tid end
    local evidence = {}
    for _, g in ipairs(groups) do
      local tids = {}
      for i, w in ipairs(g.items) do tids[i] = w.tid end
      evidence[#evidence + 1] = { waits_on = g.key, threads = tids }
    end
    report{
      message = string.format("all %d threads are blocked: %s", #waiting, table.concat(parts, "; ")),
      threads = threads, frames = frames, evidence = { groups = evidence },
    }
  end,
}
