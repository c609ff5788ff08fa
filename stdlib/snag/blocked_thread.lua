-- Blocked Thread (patterns.md): a thread whose innermost native frames are a waiting system call
-- (futex, poll, read, wait4, nanosleep…); the Blocking Module is the first module below libc.
local M = {}

-- Names (glibc's, with or without __/_nocancel decorations) of calls that wait.
local waits = { "futex", "poll", "select", "epoll_wait", "epoll_pwait", "read", "recv", "recvfrom", "recvmsg",
  "accept", "accept4", "connect", "wait4", "waitpid", "waitid", "nanosleep", "clock_nanosleep", "pause",
  "sigsuspend", "sigtimedwait", "sem_wait", "sem_timedwait", "pthread_cond_wait", "pthread_cond_timedwait",
  "pthread_join", "msgrcv", "semop", "flock", "fcntl", "sleep", "usleep", "select64" }
local wait_set = {}
for _, w in ipairs(waits) do wait_set[w] = true end

local function bare(name)
  if not name then return nil end
  name = name:gsub("^_+", ""):gsub("^GI_+", ""):gsub("^libc_", ""):gsub("^pthread_", "pthread_")
  name = name:gsub("_nocancel$", ""):gsub("64$", ""):gsub("_time64$", "")
  return name
end

local function is_wait(name)
  local b = bare(name)
  if not b then return false end
  if wait_set[b] then return true end
  return b:find("futex", 1, true) ~= nil or b:find("cond_wait", 1, true) ~= nil
    or b:find("cond_timedwait", 1, true) ~= nil or b:find("sem_wait", 1, true) ~= nil
end

-- The waiting call among the innermost `depth` native frames: its frame, or nil when running.
function M.waiting_call(frames, depth)
  for i = 1, math.min(#frames, depth or 4) do
    if is_wait(frames[i]["function"]) then return frames[i] end
  end
  return nil
end

local function is_libc(path)
  return path and (path:find("/libc[.-]") or path:find("/libpthread") or path:find("/ld%-linux")) ~= nil
end

-- First frame below the wait that is outside libc: the Blocking Module.
function M.blocking_module(frames)
  local first
  for _, f in ipairs(frames) do
    if f.module and not is_libc(f.module) then
      if f["function"] then return f end
      first = first or f
    end
  end
  return first
end

return M
