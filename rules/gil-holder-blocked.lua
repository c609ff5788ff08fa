-- GIL held while blocked (patterns.md case 7): the thread holding the GIL sits in a waiting system
-- call inside native code while other threads wait in take_gil — the import-hang case.
local facts = require("snag.facts")
local blocked = require("snag.blocked_thread")
local wait_chain = require("snag.wait_chain")

return {
  id = "gil-holder-blocked",
  pattern = "Blocked Thread",
  title = "A thread holds the GIL while blocked in native code",
  description = "The GIL holder's innermost native frames are a waiting call and other Python threads wait for the GIL.",
  severity = "error",
  tags = { "default", "python", "gil", "hang" },
  targets = { "live", "core" },
  args = { min_waiters = { default = 1, help = "threads that must be waiting for the GIL" } },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    if t.python.gil_disabled then
      report.note("Python " .. t.python.version .. " is a free-threaded build running "
        .. "without a GIL, so no thread holds one (py-bt shows which threads are attached)")
      return
    end
    local holder = facts.gil_holder()
    if not holder then return end
    local frames = facts.stack(holder)
    local call = blocked.waiting_call(frames, 6)
    if not call then return end
    local waiters = {}
    for _, py in ipairs(facts.python_threads() or {}) do
      if py.waiting_for_gil and py.tid ~= holder then waiters[#waiters + 1] = py.tid end
    end
    if #waiters < args.min_waiters then return end
    table.sort(waiters)
    local py = facts.python_by_tid()[holder]
    local top = py and py.frames and py.frames[1]
    local module = blocked.blocking_module(frames)
    local names = {}
    for i, tid in ipairs(waiters) do names[i] = facts.thread_name(tid) end
    local shown = {}
    for i = 1, math.min(#frames, 8) do shown[i] = frames[i] end
    if top then shown[#shown + 1] = top end
    local threads = { holder }
    for _, tid in ipairs(waiters) do threads[#threads + 1] = tid end
    report{
      message = string.format("%s holds the GIL while blocked in %s%s (Python: %s); %d thread(s) wait for the GIL: %s",
        facts.thread_name(holder), call["function"] or "?", module and (" called from " .. (module["function"] or "?")
        .. " in " .. (module.module or "?"):match("[^/]*$")) or "", top and wait_chain.where(top) or "?", #waiters,
        table.concat(names, ", ")),
      threads = threads, frames = shown,
      origin = module and ((module.module or "?"):match("[^/]*$") .. "!" .. (module["function"] or "?")) or nil,
      evidence = { holder = holder, blocking_call = call["function"], blocking_module = module and module.module,
                   waiters = waiters },
      advice = "release the GIL around blocking native calls (Py_BEGIN_ALLOW_THREADS, ctypes.CDLL rather than PyDLL)",
    }
  end,
}
