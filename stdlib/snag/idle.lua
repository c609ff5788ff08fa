-- Idle Thread versus Blocked Thread (patterns.md): what each waiting thread waits for, from its
-- system call (the registers of a thread stopped inside one), its native and Python frames, and
-- the descriptor it waits on. A thread waiting for new work in its main loop (an event loop in
-- epoll_wait, accept on a listening socket, a pool worker's idle get()) is idle, not hung.
-- M.points is the table of known waits; a team adds its own from a rules directory (docs/rules.md).
local facts = require("snag.facts")
local blocked = require("snag.blocked_thread")
local app_frames = require("snag.app_frames")
local wait_chain = require("snag.wait_chain")

local M = {}

-- Known waits. Each entry: name, idle (true: waiting for new work; false: waiting for a lock
-- even when the system call looks like an event loop), and what must hold for it to match:
-- calls (kinds of system call: poll, accept, signal, io, time, child, sync), native (function
-- names among the native frames), python (function names, "Class.method" or "method", among the
-- Python frames), file (a Lua pattern the matching Python frame's file must contain), thread
-- (thread names, as a library names its own threads: the frames of a stripped library say nothing).
-- Lock points are tried before idle points; the first match decides.
M.points = {
  { name = "pthread mutex", idle = false, native = { "__lll_lock_wait", "__lll_lock_wait_private",
    "pthread_mutex_lock", "___pthread_mutex_lock", "__pthread_mutex_lock_full", "___pthread_rwlock_rdlock",
    "___pthread_rwlock_wrlock", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock" } },
  { name = "PostgreSQL lock", idle = false, native = { "ProcSleep", "LWLockAcquire", "LockBufferForCleanup" },
    holder = function() return M.sibling_titled("idle in transaction") end },
  { name = "thread pool worker waiting for work", idle = true, python = { "_worker" }, file = "concurrent/futures/thread%.py" },
  { name = "multiprocessing pool worker waiting for a task", idle = true, python = { "worker" }, file = "multiprocessing/pool%.py" },
  { name = "multiprocessing pool handler", idle = true, python = { "_handle_workers", "_handle_tasks", "_handle_results" },
    file = "multiprocessing/pool%.py" },
  { name = "asyncio event loop", idle = true, python = { "_run_once" }, file = "asyncio/base_events%.py" },
  { name = "event loop", idle = true, calls = { "poll" } },
  { name = "accept loop", idle = true, calls = { "accept" } },
  { name = "signal wait", idle = true, calls = { "signal" } },
  { name = "Redis background jobs", idle = true, native = { "bioProcessBackgroundJobs" } },
  { name = "jemalloc background thread", idle = true, native = { "background_thread_entry", "background_work" } },
  { name = "jemalloc background thread", idle = true, thread = { "jemalloc_bg_thd" }, calls = { "sync", "time" } },
  { name = "GLib thread pool", idle = true, native = { "g_thread_pool_wait_for_new_task" } },
  { name = "GLib main loop", idle = true, native = { "g_main_loop_run", "g_main_context_iterate" }, calls = { "poll" } },
}

-- Live: the sibling processes (same parent) whose title (ps, /proc/PID/cmdline) contains text, as
-- "pid 123 (postgres: app db 127.0.0.1(5432) idle in transaction)"; nil when there is none or for
-- cores. A point's holder() uses it to name the likely holder when the lock lives elsewhere.
function M.sibling_titled(text)
  if target.kind ~= "process" or not target.ppid or target.ppid <= 1 then return nil end
  local f = io.open(string.format("/proc/%d/task/%d/children", target.ppid, target.ppid), "r")
  if not f then return nil end
  local list = f:read("a") or ""
  f:close()
  local out = {}
  for pid in list:gmatch("%d+") do
    local c = io.open("/proc/" .. pid .. "/cmdline", "rb")
    local title = c and (c:read("a") or ""):gsub("%z", " "):gsub("%s+$", "") or ""
    if c then c:close() end
    if tonumber(pid) ~= target.pid and title:find(text, 1, true) then
      out[#out + 1] = string.format("pid %s (%s)", pid, title)
    end
  end
  return #out > 0 and table.concat(out, ", ") or nil
end

-- Adds points before the defaults, so a team's entries decide first.
function M.add(points)
  for i = #points, 1, -1 do
    local p = points[i]
    if type(p) ~= "table" or type(p.name) ~= "string" or p.idle == nil then
      error("idle points are tables {name = \"...\", idle = true|false, calls/native/python/thread = {...}}", 2)
    end
    table.insert(M.points, 1, p)
  end
end

local function set_of(list)
  local s = {}
  for _, x in ipairs(list or {}) do s[x] = true end
  return s
end

-- glibc's names for one function (__GI___poll, ___pthread_mutex_lock, __read_nocancel) match a
-- point's plain name.
local function bare(name)
  if not name then return nil end
  return (name:gsub("^_+", ""):gsub("_nocancel$", ""):gsub("^GI_+", ""):gsub("^libc_", ""))
end

-- The system call thread th is stopped in, {name, kind, fd}, from its registers (th:syscall());
-- else from the wait function on its native stack (snag.syscall names what libc calls); nil when
-- the call had returned (a stop right after an openat or a read of a file is no wait). Kinds of
-- wait are snag's table (runtime/target/syscalls.cpp); an unknown wait counts as "sync".
local function syscall_of(th, native)
  local ok, call = pcall(th.syscall, th)
  if ok and call and call.returned then return nil end   -- stopped on its way back: it waits for nothing
  if ok and call and call.kind ~= "other" then return { name = call.name, kind = call.kind, fd = call.fd } end
  local frame = blocked.waiting_call(native, 6)
  if not frame then return nil end
  local known = snag.syscall(frame["function"] or "")
  return { name = known and known.name or frame["function"], kind = known and known.kind or "sync" }
end

-- The innermost frame that is the point, unless application code runs inside it: a pool worker
-- in _worker is idle while it waits for a task, not while a task of it waits (render_page
-- waiting for a Future queued behind itself is the task's wait).
local function python_frame_matches(point, pyframes)
  local names = set_of(point.python)
  for _, f in ipairs(pyframes or {}) do
    local fn = f["function"] or ""
    local short = fn:match("[^.]*$")
    if (names[fn] or names[short]) and (not point.file or (f.file or ""):find(point.file)) then return f end
    if app_frames.is_app(f) then return nil end
  end
  return nil
end

local NATIVE_DEPTH = 12   -- a wait point sits near the wait: deeper frames are the thread's whole life

local function native_frame_matches(point, native)
  local names = set_of(point.native)
  for i = 1, math.min(#native, NATIVE_DEPTH) do
    local f = native[i]
    if names[f["function"] or ""] or names[bare(f["function"]) or ""] then return f end
  end
  return nil
end

local function point_matches(point, call, native, pyframes, thread_name)
  if point.calls and not (call and set_of(point.calls)[call.kind]) then return nil end
  if point.thread and not set_of(point.thread)[thread_name or ""] then return nil end
  local frame
  if point.native then
    frame = native_frame_matches(point, native)
    if not frame then return nil end
  end
  if point.python then
    frame = python_frame_matches(point, pyframes)
    if not frame then return nil end
  end
  if not point.native and not point.python and not point.calls and not point.thread then return nil end
  return frame or true
end

-- Descriptors by number (live: /proc; snag dump cores: the paratext), {} when unknown.
function M.descriptors()
  local fds = facts.memo("fds", function()
    local ok, list = pcall(target.fds, target)
    local by = {}
    for _, d in ipairs(ok and list or {}) do by[d.fd] = d end
    return by
  end)
  return fds or {}
end

-- "the listening socket 127.0.0.1:8000", "a pipe", "an epoll set watching 3 descriptors".
function M.describe_fd(fd)
  local d = fd and M.descriptors()[fd]
  if not d then return nil end
  local s = d.socket
  if s then
    if s.listening then return string.format("the listening %s socket %s", s.protocol, s["local"] ~= "" and s["local"] or "?") end
    if s.remote and s.remote ~= "" then return string.format("a %s socket connected to %s", s.protocol, s.remote) end
    return string.format("a %s socket %s", s.protocol, s["local"] or "")
  end
  if d.kind == "epoll" then
    local parts = {}
    for _, w in ipairs(d.watches or {}) do
      local wd = M.descriptors()[w]
      if wd and wd.socket and wd.socket.listening then parts[#parts + 1] = wd.socket["local"] end
    end
    local listening = #parts > 0 and (", listening on " .. table.concat(parts, ", ")) or ""
    return string.format("an epoll set of %d descriptors%s", #(d.watches or {}), listening)
  end
  if d.kind == "file" or d.kind == "device" then return d.target end
  return "a " .. d.kind
end

-- What thread tid does: {class, what, point, frame, call, fd}. class is "running", "idle",
-- "lock" (a lock acquire: Python waiting_on, a mutex, a database lock), "notify" (a condition,
-- event or future that another thread must signal), "join", "io", "time", "child" or "wait".
function M.classify(tid)
  local th = target:thread(tid)
  local native = facts.stack(tid)
  local py = facts.python_by_tid()[tid]
  local pyframes = py and py.frames or {}
  local call = th and syscall_of(th, native)
  local subject = app_frames.subject(pyframes)
  if not call and not (py and (py.waiting_on or py.waiting_for_gil)) then return { class = "running" } end
  local out = { call = call, frame = subject, fd = call and call.fd }
  for _, point in ipairs(M.points) do
    local hit = point_matches(point, call, native, pyframes, th and th.name)
    if hit then
      out.point, out.class = point.name, point.idle and "idle" or "lock"
      if point.idle and pyframes[1] then out.frame = pyframes[1] end   -- where it idles, library or not
      if not subject and type(hit) == "table" then out.frame, out.callers = hit, M.callers(native, hit, 3) end
      if point.holder then
        local ok, holder = pcall(point.holder, tid)
        out.holder = ok and holder or nil
      end
      break
    end
  end
  local sync = not call or call.kind == "sync"   -- a read or a sleep inside `with lock:` is no lock wait
  if not out.class and py and py.waiting_on and sync then
    local signal = wait_chain.signal_waits[py.waiting_on["function"] or ""]
    local fn = py.waiting_on["function"] or ""
    out.class = (fn:find("join", 1, true) or fn:find("tstate_lock", 1, true)) and "join" or (signal and "notify" or "lock")
    out.lock = py.waiting_on
  elseif not out.class and py and py.waiting_for_gil then
    out.class = "lock"
    out.gil = true
  end
  out.class = out.class or (call and ({ io = "io", time = "time", child = "child" })[call.kind]) or "wait"
  return out
end

-- The names of up to n frames below frame in native: "WaitOnLock ← LockAcquireExtended".
function M.callers(native, frame, n)
  local out, after = {}, false
  for _, f in ipairs(native) do
    if after and #out < n and f["function"] then out[#out + 1] = f["function"] end
    if f == frame then after = true end
  end
  return #out > 0 and table.concat(out, " ← ") or nil
end

-- One phrase for a classified wait: "select in Arbiter.sleep (arbiter.py:357) [event loop]",
-- "PostgreSQL lock (epoll_wait in ProcSleep ← LockAcquireExtended); likely held by ...".
function M.describe(c)
  local call = c.call and c.call.name or "a wait"
  local on = c.fd and M.describe_fd(c.fd)
  local where = c.frame and (c.frame.file and wait_chain.where(c.frame) or (c.frame["function"] or "?")) or nil
  local text = call .. (on and (" on " .. on) or "")
  if where then text = text .. " in " .. where .. (c.callers and (" ← " .. c.callers) or "") end
  if c.gil then
    text = "the GIL" .. (where and (" in " .. where) or "")
  elseif c.class == "lock" and c.point then
    text = "a " .. c.point .. " (" .. text .. ")"
  elseif c.lock and c.lock.type then
    text = c.lock.type .. " (" .. text .. ")"
  elseif c.point then
    text = text .. " [" .. c.point .. "]"
  end
  if c.holder then text = text .. "; likely held by " .. c.holder .. " (inferred from process titles)" end
  return text
end

-- Listening sockets with connections waiting for accept(): work a process says is pending.
function M.pending_work()
  local out = {}
  for _, d in pairs(M.descriptors()) do
    local s = d.socket
    if s and s.listening and (s.queue or 0) > 0 and s.protocol ~= "unix" then
      out[#out + 1] = string.format("%d connection%s waiting in the accept backlog of %s", s.queue,
        s.queue == 1 and "" or "s", s["local"])
    end
  end
  table.sort(out)
  return out
end

return M
