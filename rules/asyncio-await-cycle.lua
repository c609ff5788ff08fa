-- Deadlock without threads (patterns.md, Deadlock): asyncio tasks that await each other. Each
-- waits for the other to finish, so none ever does; the loop itself stays idle in its selector.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

-- The cycle's tasks in await order, starting from its first task.
local function in_order(cycle, by_address)
  local members = {}
  for _, a in ipairs(cycle) do members[a] = true end
  local out, seen, current = {}, {}, cycle[1]
  while current and not seen[current] do
    seen[current] = true
    out[#out + 1] = by_address[current]
    local next_one
    for _, a in ipairs(by_address[current].awaits) do
      if members[a] and not seen[a] then next_one = a break end
    end
    current = next_one
  end
  return out
end

return {
  id = "asyncio-await-cycle",
  pattern = "Deadlock",
  title = "asyncio tasks await each other",
  description = "A cycle in the await graph of asyncio tasks (task A awaits task B which awaits A): "
    .. "a deadlock without threads that thread stacks do not show.",
  severity = "error",
  tags = { "default", "python", "asyncio", "hang" },
  targets = { "live", "core" },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local tasks = facts.python_tasks()
    if not tasks or #tasks.cycles == 0 then return end
    local by_address = {}
    for _, task in ipairs(tasks) do by_address[task.address] = task end
    for _, cycle in ipairs(tasks.cycles) do
      local ordered = in_order(cycle, by_address)
      local parts, names, frames, threads = {}, {}, {}, {}
      for i, task in ipairs(ordered) do
        local awaited = ordered[i % #ordered + 1]
        names[#names + 1] = task.name
        parts[#parts + 1] = string.format("'%s' awaits '%s' in %s", task.name, awaited.name,
          wait_chain.where(task.frames[1]))
        if task.frames[1] then frames[#frames + 1] = task.frames[1] end
        if task.tid then threads[task.tid] = true end
      end
      local tids = {}
      for tid in pairs(threads) do tids[#tids + 1] = tid end
      table.sort(tids)
      report{
        message = string.format("await cycle among %d asyncio tasks: %s", #ordered, table.concat(parts, "; ")),
        threads = tids, frames = frames,
        evidence = { tasks = names, addresses = cycle },
        advice = "break the cycle: one of these tasks must not await the other (use an Event or a Queue "
          .. "to hand results back), or wrap the await in asyncio.wait_for to fail instead of hanging",
      }
    end
  end,
}
