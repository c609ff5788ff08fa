-- Facts shared by every rule of one analysis: threads, native stacks, Python thread states, the
-- wait-for graph, live samples. Each is computed on first use and reused until the target runs.
local M = {}

local cache, generation = {}, nil
M.samples = nil   -- live: {duration, threads = {{tid, name, cpu}}, series = {{t, rss, fds, threads}}} set by snag.analyze
M.core_writer = nil  -- cores: "snag" when `snag dump` wrote it (its paratext note), else "other"; set by snag.analyze

local function memo(name, compute)
  local g = snag and snag.generation and snag.generation() or 0
  if g ~= generation then cache, generation = {}, g end
  local v = cache[name]
  if v == nil then
    v = compute()
    if v == nil then v = false end
    cache[name] = v
  end
  return v or nil
end

M.memo = memo

function M.threads()
  return memo("threads", function() return target:threads() end)
end

-- Python thread states (nil when the target runs no CPython or they cannot be read).
function M.python_threads()
  return memo("python_threads", function()
    local py = target.python
    if not py then return nil end
    local ok, threads = pcall(py.threads, py)
    return ok and threads or nil
  end)
end

function M.python_by_tid()
  return memo("python_by_tid", function()
    local by = {}
    for _, t in ipairs(M.python_threads() or {}) do by[t.tid] = t end
    return by
  end)
end

-- asyncio tasks of every event loop (py:tasks(): .loops, .cycles), nil without CPython.
function M.python_tasks()
  return memo("python_tasks", function()
    local py = target.python
    if not py or not py.tasks then return nil end
    local ok, tasks = pcall(py.tasks, py)
    return ok and tasks or nil
  end)
end

function M.gil_holder()
  return memo("gil_holder", function()
    local py = target.python
    if not py then return nil end
    local ok, tid = pcall(py.gil_holder, py)
    if ok and tid then return tid end
    for _, t in ipairs(M.python_threads() or {}) do if t.gil then return t.tid end end
    return nil
  end)
end

-- Native frames of thread tid, innermost first ({} when it cannot be unwound).
function M.stack(tid)
  return memo("stack:" .. tid, function()
    local th = target:thread(tid)
    if not th then return {} end
    local ok, frames = pcall(th.stack, th, 256)
    return ok and frames or {}
  end)
end

-- A thread "waits for a lock" only when its native stack is in a lock acquire: one whose system
-- call is a read, a poll, a sleep or a waitpid waits for I/O, time or a child, even inside a
-- `with lock:` block (it may be the holder).
local function lock_waiters_only(pythreads)
  local idle = require("snag.idle")
  local out = {}
  for i, t in ipairs(pythreads) do
    out[i] = t
    if t.waiting_on then
      local c = idle.classify(t.tid)
      if c.call and c.call.kind ~= "sync" then
        local copy = setmetatable({ waiting_on = false }, { __index = t })
        out[i] = copy
      end
    end
  end
  return out
end

function M.wait_graph()
  return memo("wait_graph", function()
    return require("snag.wait_chain").build(lock_waiters_only(M.python_threads() or {}), M.gil_holder())
  end)
end

-- CPU seconds of each thread recorded in a core, each thread's own. When the leader holds the
-- group total (kernel cores: fill_prstatus reports thread_group_cputime for the thread-group
-- leader), the other threads' times are subtracted; what remains is the leader's own time plus
-- that of threads which had already exited. tid → seconds (nil when the core records none).
function M.own_cpu_times(threads, pid, leader_has_group_total)
  local out, others = {}, 0
  for _, th in ipairs(threads) do
    if th.tid ~= pid then others = others + (th.cpu or 0) end
  end
  for _, th in ipairs(threads) do
    local cpu = th.cpu
    if cpu and leader_has_group_total and th.tid == pid then cpu = math.max(0, cpu - others) end
    out[th.tid] = cpu
  end
  return out
end

-- Per-thread CPU of the target's threads from the core (snag dump records each thread's own).
function M.thread_cpu()
  return memo("thread_cpu", function()
    local kernel_like = target.kind == "core" and M.core_writer ~= "snag"
    return M.own_cpu_times(M.threads(), target.pid, kernel_like)
  end)
end

-- Why a core's threads all show 0 s of CPU, true for the kind of core it is: snag dump records
-- each thread's times (they barely ran); gcore writes zeros, kernel cores real times.
function M.no_cpu_time_reason()
  if M.core_writer == "snag" then
    return "every thread's CPU time recorded in this core (written by `snag dump`) is 0.00 s: the threads had barely run"
  end
  return "every thread's CPU time recorded in this core is 0.00 s: gdb's gcore writes zeros (write cores with "
    .. "`snag dump` or let the kernel write them to see spiking threads), or the threads had barely run"
end

-- CPU used by each thread: live, over --duration of sampling ({tid, cpu, share of one CPU,
-- runnable}); cores, each thread's own time recorded in the core when it is at least min_seconds
-- ({tid, cpu, share of all recorded CPU, cumulative = true}). Also says where the numbers come
-- from; nil and why when there are none (--duration 0, gcore's zeros).
function M.cpu_usage(min_seconds)
  local samples = M.samples
  if samples and samples.duration and samples.duration > 0 then
    local out = {}
    for _, s in ipairs(samples.threads) do
      out[#out + 1] = { tid = s.tid, cpu = s.cpu, share = s.cpu / samples.duration, runnable = s.runnable }
    end
    return out, string.format("over %.1f s of sampling", samples.duration)
  end
  if target.kind == "process" then return nil, "live process not sampled (--duration 0)" end
  local cpu_of = M.thread_cpu()
  local out, total = {}, 0
  for _, th in ipairs(M.threads()) do
    local cpu = cpu_of[th.tid]
    if cpu and cpu > 0 then total = total + cpu end
  end
  if total == 0 then return nil, M.no_cpu_time_reason() end
  for _, th in ipairs(M.threads()) do
    local cpu = cpu_of[th.tid] or 0
    if cpu >= min_seconds then out[#out + 1] = { tid = th.tid, cpu = cpu, share = cpu / total, cumulative = true } end
  end
  return out, string.format("of %.2f s of CPU recorded in the core", total)
end

-- Thread name for messages: the Python name when known, else comm; never blank (kernel cores
-- name no thread: the leader takes the process's name from NT_PRPSINFO, others "LWP tid").
function M.thread_name(tid)
  local py = M.python_by_tid()[tid]
  if py and py.name and py.name ~= "" then return py.name end
  local th = target:thread(tid)
  if th and th.name and th.name ~= "" then return th.name end
  if tid == target.pid and target.name and target.name ~= "" then return target.name end
  return "LWP " .. tostring(tid)
end

return M
