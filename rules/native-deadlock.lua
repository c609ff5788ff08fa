-- Deadlock in native space (patterns.md, Space Translation): threads blocked in
-- pthread_mutex_lock on mutexes whose __owner TID is another blocked thread, in a cycle. glibc
-- x86_64: a thread waiting in __lll_lock_wait sits in the futex syscall with the mutex address in
-- rdi; the owner's TID is the int at offset 8 (__data.__owner).
local facts = require("snag.facts")

local function base(p) return p and (p:match("[^/]*$")) or "?" end

-- The mutex a thread waits for: address, owner tid, and the caller of pthread_mutex_lock.
local function mutex_wait(th)
  local frames = facts.stack(th.tid)
  local waiting, caller = false, nil
  for i = 1, math.min(#frames, 8) do
    local name = frames[i]["function"] or ""
    if name:find("lll_lock_wait", 1, true) then waiting = true end
    if waiting and name:find("pthread_mutex_lock", 1, true) then caller = frames[i + 1]; break end
  end
  if not waiting then return nil end
  local ok, regs = pcall(th.registers, th)
  if not ok or not regs.rdi then return nil end
  local owner = target:u32(regs.rdi + 8)
  if not owner then return nil end
  return { mutex = regs.rdi, owner = owner, caller = caller, frames = frames }
end

return {
  id = "native-deadlock",
  pattern = "Deadlock",
  title = "Threads wait for each other's pthread mutexes",
  description = "Cycles of threads blocked in pthread_mutex_lock, each mutex owned (by __owner TID) by the next thread.",
  severity = "error",
  tags = { "default", "native", "synchronization", "hang" },
  targets = { "live", "core" },
  args = {},
  check = function(t, args, report)
    local waits = {}
    for _, th in ipairs(facts.threads()) do waits[th.tid] = mutex_wait(th) end
    local done = {}
    for _, th in ipairs(facts.threads()) do
      local path, pos, tid = {}, {}, th.tid
      while tid and waits[tid] and not done[tid] and not pos[tid] do
        pos[tid] = #path + 1
        path[#path + 1] = tid
        tid = waits[tid].owner
      end
      if tid and pos[tid] then
        local parts, threads, frames = {}, {}, {}
        for i = pos[tid], #path do
          local w = waits[path[i]]
          local py = facts.python_by_tid()[path[i]]
          local pytop = py and py.frames and py.frames[1]
          local where = w.caller and w.caller["function"]
            or (pytop and require("snag.wait_chain").where(pytop)) or "?"
          parts[#parts + 1] = string.format("%s (tid %d) waits for mutex 0x%x in %s, owned by tid %d",
            facts.thread_name(path[i]), path[i], w.mutex, where, w.owner)
          threads[#threads + 1] = path[i]
          frames[#frames + 1] = w.caller
          if pytop then frames[#frames + 1] = pytop end
        end
        report{
          message = string.format("deadlock among %d threads: %s", #threads, table.concat(parts, "; ")),
          threads = threads, frames = frames,
          origin = frames[1] and (base(frames[1].module) .. "!" .. (frames[1]["function"] or "?")) or nil,
          evidence = { cycle = threads },
          advice = "acquire the mutexes in one global order (or use pthread_mutex_trylock and back off)",
        }
      end
      for _, p in ipairs(path) do done[p] = true end
    end
  end,
}
