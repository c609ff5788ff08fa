-- Stack Trace Set over asyncio tasks: many pending tasks running the same coroutine that no task
-- awaits (fire-and-forget create_task calls piling up: each holds its coroutine, its frames and
-- whatever they reference until it ends).
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

return {
  id = "task-leak",
  pattern = "Stack Trace Set",
  title = "Many asyncio tasks that nothing awaits",
  description = "At least min_tasks pending asyncio tasks of one coroutine that no other task awaits: "
    .. "tasks created and forgotten, usually growing with traffic.",
  severity = "warning",
  tags = { "default", "python", "asyncio", "leak" },
  targets = { "live", "core" },
  args = { min_tasks = { default = 100, help = "unawaited pending tasks of one coroutine that fire" } },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local tasks = facts.python_tasks()
    if not tasks then return end
    local groups, order = {}, {}
    for _, task in ipairs(tasks) do
      local outer = task.frames[#task.frames]
      if task.state == "pending" and not task.running and #task.awaited_by == 0 and outer then
        local key = outer["function"] .. "|" .. outer.file
        if not groups[key] then
          groups[key] = { frame = outer, tasks = {}, tids = {} }
          order[#order + 1] = key
        end
        local g = groups[key]
        g.tasks[#g.tasks + 1] = task
        if task.tid then g.tids[task.tid] = true end
      end
    end
    for _, key in ipairs(order) do
      local g = groups[key]
      if #g.tasks >= args.min_tasks then
        local names = {}
        for i = 1, math.min(#g.tasks, 5) do names[i] = g.tasks[i].name end
        local kinds = {}
        for _, task in ipairs(g.tasks) do kinds[task.kind] = (kinds[task.kind] or 0) + 1 end
        local waits = {}
        for kind, n in pairs(kinds) do waits[#waits + 1] = string.format("%d %s", n, kind) end
        table.sort(waits)
        local tids = {}
        for tid in pairs(g.tids) do tids[#tids + 1] = tid end
        table.sort(tids)
        report{
          message = string.format("%d pending asyncio tasks of %s that no task awaits (waiting: %s; e.g. %s)",
            #g.tasks, wait_chain.where(g.frame), table.concat(waits, ", "), table.concat(names, ", ")),
          threads = tids, frames = { g.frame },
          evidence = { count = #g.tasks, coroutine = g.frame["function"], file = g.frame.file, examples = names },
          advice = "keep a reference to the tasks you create and await them (asyncio.TaskGroup, gather), "
            .. "give them timeouts, or bound their number (a Semaphore, a worker pool reading a Queue)",
        }
      end
    end
  end,
}
