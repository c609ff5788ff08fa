-- Stack Trace Set over asyncio tasks: many pending tasks running the same coroutine that no task
-- awaits (fire-and-forget create_task calls piling up: each holds its coroutine, its frames and
-- whatever they reference until it ends). With --baseline OLD (an earlier dump of the service), the
-- growth since then decides: a group that grew fires below min_tasks, one that did not is a note.
local facts = require("snag.facts")
local sets = require("snag.stack_trace_set")
local wait_chain = require("snag.wait_chain")

-- Pending tasks that nothing awaits, grouped by their outermost coroutine (function|file), in
-- the order first seen.
local function unawaited_groups()
  local tasks = facts.python_tasks()
  if not tasks then return nil end
  local groups, order = {}, {}
  for _, task in ipairs(tasks) do
    local outer = task.frames[#task.frames]
    if task.state == "pending" and not task.running and #task.awaited_by == 0 and outer then
      local key = outer["function"] .. "|" .. outer.file
      if not groups[key] then
        groups[key] = { key = key, frame = outer, tasks = {}, tids = {} }
        order[#order + 1] = groups[key]
      end
      local g = groups[key]
      g.tasks[#g.tasks + 1] = task
      if task.tid then g.tids[task.tid] = true end
    end
  end
  return order
end

local function waits_of(g)
  local kinds = {}
  for _, task in ipairs(g.tasks) do kinds[task.kind] = (kinds[task.kind] or 0) + 1 end
  local waits = {}
  for kind, n in pairs(kinds) do waits[#waits + 1] = string.format("%d %s", n, kind) end
  table.sort(waits)
  return table.concat(waits, ", ")
end

local function sorted_tids(g)
  local tids = {}
  for tid in pairs(g.tids) do tids[#tids + 1] = tid end
  table.sort(tids)
  return tids
end

return {
  id = "task-leak",
  pattern = "Stack Trace Set",
  title = "Many asyncio tasks that nothing awaits",
  description = "At least min_tasks pending asyncio tasks of one coroutine that no other task awaits: "
    .. "tasks created and forgotten, usually growing with traffic. With --baseline, a group that "
    .. "gained min_growth such tasks since the earlier dump.",
  severity = "warning",
  tags = { "default", "python", "asyncio", "leak" },
  targets = { "live", "core" },
  args = {
    min_tasks = { default = 100, help = "unawaited pending tasks of one coroutine that fire" },
    min_growth = { default = 20, help = "with --baseline: unawaited pending tasks of one coroutine gained since the baseline that fire" },
  },
  applies = function(t) return t.python ~= nil end,
  -- Remembered of an earlier dump for --baseline: the size of each group.
  baseline = function()
    local counts = {}
    for _, g in ipairs(unawaited_groups() or {}) do counts[g.key] = #g.tasks end
    return { counts = counts }
  end,
  check = function(t, args, report, baseline)
    local groups = unawaited_groups()
    if not groups then return end
    for _, g in ipairs(groups) do
      local fires, before, since = sets.against_baseline(#g.tasks, g.key, baseline, args.min_tasks, args.min_growth)
      local names = {}
      for i = 1, math.min(#g.tasks, 5) do names[i] = g.tasks[i].name end
      if fires then
        report{
          message = string.format("%d pending asyncio tasks of %s that no task awaits%s (waiting: %s; e.g. %s)",
            #g.tasks, wait_chain.where(g.frame), since, waits_of(g), table.concat(names, ", ")),
          threads = sorted_tids(g), frames = { g.frame },
          evidence = { count = #g.tasks, baseline_count = before, coroutine = g.frame["function"], file = g.frame.file,
                       examples = names },
          advice = "keep a reference to the tasks you create and await them (asyncio.TaskGroup, gather), "
            .. "give them timeouts, or bound their number (a Semaphore, a worker pool reading a Queue)",
        }
      elseif before and #g.tasks >= args.min_tasks then
        report.note(string.format("%d pending asyncio tasks of %s that no task awaits, not growing%s",
          #g.tasks, wait_chain.where(g.frame), since))
      end
    end
  end,
}
