-- Blocked Thread / Hang (patterns.md): every thread waits and none runs. Each wait is classified
-- by snag.idle (idle for new work, a lock, a notification, I/O, time, a child). A process whose
-- threads all wait for new work is idle (info), unless its own evidence says work is pending (a
-- listening socket's accept backlog). It is hung (warning) when a thread waits for a lock or a
-- notification that no wait chain or deadlock finding already explains; a process that only
-- waits for I/O, time or children can go on by itself (info).
local facts = require("snag.facts")
local idle = require("snag.idle")
local sets = require("snag.stack_trace_set")

local function explained_by_graph()
  local graph = facts.wait_graph()
  local out = require("snag.pool_deadlock").explained()  -- pool-self-deadlock reports those
  for tid in pairs(graph.in_cycle or {}) do out[tid] = true end
  for _, chain in ipairs(graph.chains or {}) do
    for _, tid in ipairs(chain) do out[tid] = true end
  end
  return out
end

local function ran_during_sampling(max_share)
  local samples = facts.samples
  if not (samples and samples.duration and samples.duration > 0) then return false end
  for _, s in ipairs(samples.threads) do
    if s.cpu / samples.duration > max_share or (s.runnable or 0) >= 0.8 then return true end
  end
  return false
end

local function summary(list)
  local groups = sets.group(list, function(w) return w.what end)
  local parts, evidence = {}, {}
  for _, g in ipairs(groups) do
    local names, tids = {}, {}
    for i, w in ipairs(g.items) do
      tids[i] = w.tid
      if i <= 3 then names[#names + 1] = string.format("%s (tid %d)", facts.thread_name(w.tid), w.tid) end
    end
    if #g.items > 3 then names[#names + 1] = string.format("%d more", #g.items - 3) end
    parts[#parts + 1] = string.format("%s waits for %s", table.concat(names, ", "), g.key)
    evidence[#evidence + 1] = { waits_on = g.key, class = g.items[1].class, threads = tids,
                                library_frame = g.items[1].library_frame }
  end
  return table.concat(parts, "; "), evidence, groups
end

return {
  id = "blocked-threads",
  pattern = "Blocked Thread",
  title = "Every thread is blocked (hang)",
  description = "No thread runs and some wait for a lock or a notification that no wait chain explains (a hang); "
    .. "a process whose threads all wait for new work (snag.idle's points) is reported as idle, at info.",
  severity = "warning",
  tags = { "default", "hang" },
  targets = { "live", "core" },
  args = { max_cpu_share = { default = 0.05, help = "live: a thread using more of a CPU than this is running" } },
  check = function(t, args, report)
    if ran_during_sampling(args.max_cpu_share) then return end
    local explained = explained_by_graph()
    local idle_threads, stuck, waiting, all, covered = {}, {}, {}, {}, 0
    for _, th in ipairs(facts.threads()) do
      local c = idle.classify(th.tid)
      if c.class == "running" then return end
      local _, library = require("snag.app_frames").subject(facts.python_by_tid()[th.tid]
        and facts.python_by_tid()[th.tid].frames or {})
      local w = { tid = th.tid, class = c.class, what = idle.describe(c), frame = c.frame,
                  library_frame = library and require("snag.wait_chain").where(library) or nil }
      all[#all + 1] = w
      if c.class == "idle" then idle_threads[#idle_threads + 1] = w
      elseif explained[th.tid] then covered = covered + 1  -- python-deadlock / wait-chain report it
      elseif c.class == "lock" or c.class == "notify" then stuck[#stuck + 1] = w
      elseif c.class ~= "join" then waiting[#waiting + 1] = w end
    end
    if #all == 0 then return end
    local frames, threads = {}, {}
    if #stuck > 0 then
      for _, w in ipairs(stuck) do threads[#threads + 1] = w.tid; frames[#frames + 1] = w.frame end
      local text, evidence = summary(stuck)
      report{
        message = string.format("%d of %d threads are stuck: %s", #stuck, #all, text),
        threads = threads, frames = frames, evidence = { groups = evidence, idle = #idle_threads },
        advice = "find the thread that holds the lock (or should signal) and what it waits for",
      }
      return
    end
    if #waiting > 0 then
      local text, evidence = summary(waiting)
      report{ severity = "info", title = "Every thread waits (for I/O, time or a child)",
        message = string.format("all %d threads wait: %s", #all, text),
        threads = {}, frames = {}, evidence = { groups = evidence } }
      return
    end
    if covered > 0 then return end
    local pending = idle.pending_work()
    local text, evidence = summary(idle_threads)
    if #pending > 0 then
      for _, w in ipairs(idle_threads) do threads[#threads + 1] = w.tid; frames[#frames + 1] = w.frame end
      report{ title = "The process waits for new work while work is pending",
        message = string.format("all %d threads wait for new work while %s: %s", #all, table.concat(pending, ", "), text),
        threads = threads, frames = frames, evidence = { groups = evidence, pending = pending } }
      return
    end
    report{ severity = "info", title = "The process is idle",
      message = string.format("idle: all %d threads wait for new work: %s", #all, text),
      threads = {}, frames = {}, evidence = { groups = evidence } }
  end,
}
