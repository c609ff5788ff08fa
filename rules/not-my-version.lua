-- Not My Version (patterns.md): modules whose build-id in the target differs from the file this
-- machine would use, modules whose file is missing, and modules whose file was replaced or
-- deleted after the process loaded it (an upgrade under a running process: the kernel names the
-- mapping "PATH (deleted)"), and modules built for another Python than the interpreter's.
local function base(p) return p and (p:match("[^/]*$")) or "?" end

-- The CPython version a module's path says it was built for: an extension's ABI tag
-- (.cpython-311-x86_64-linux-gnu.so), libpython3.11.so, or a .../python3.11/... directory.
local function built_for(path)
  local major, minor = path:match("%.cpython%-(%d)(%d+)[a-z]*%-")
  if not major then major, minor = path:match("libpython(%d)%.(%d+)") end
  if not major then major, minor = path:match("/python(%d)%.(%d+)/") end
  return major and (major .. "." .. minor) or nil
end

-- Mappings no file on disk can hold: shared memory (POSIX /dev/shm, System V "/SYSV...",
-- "/dev/zero (deleted)" of a shared anonymous mapping), memfd, other devices. Nothing to compare.
local memory_only = { "^/dev/", "^/SYSV%x+", "^/memfd:", "^/%[", "^anon_inode:", "^/anon_hugepage", "^/drm mm object" }

local function is_memory_only(path)
  for _, p in ipairs(memory_only) do if path:find(p) then return true end end
  return false
end

return {
  id = "not-my-version",
  pattern = "Not My Version",
  title = "Loaded modules differ from the files on this machine",
  description = "Build-ids recorded in the target that differ from the files found (or files that are missing), "
    .. "files replaced or deleted after the process loaded them, and modules built for another Python version "
    .. "(ABI tag, libpythonX.Y, pythonX.Y directory): symbols and stacks for those modules may be "
    .. "wrong, or the process runs other code than the files on disk.",
  severity = "warning",
  tags = { "default", "modules", "environment" },
  targets = { "live", "core" },
  args = { max_listed = { default = 5, help = "modules named in the message" } },
  check = function(t, args, report)
    local stale, missing, replaced, foreign = {}, {}, {}, {}
    local interpreter = t.python and t.python.version and t.python.version:match("^(%d+%.%d+)")
    for _, m in ipairs(t:modules()) do
      local wanted = m.path and interpreter and built_for(m.path)
      if wanted and wanted ~= interpreter then foreign[#foreign + 1] = { path = m.path, built_for = wanted } end
      if not m.path or m.path == "" or m.path:sub(1, 1) == "[" or m.path:find("linux%-vdso") or is_memory_only(m.path) then
        -- [vdso], shared memory and memfd live only in memory: nothing to compare
      elseif m.path:find(" %(deleted%)$") then
        replaced[#replaced + 1] = m
      elseif m.found == false then
        missing[#missing + 1] = m
      elseif m.matches == false then
        stale[#stale + 1] = m
      end
    end
    local function names(list)
      local out = {}
      for i = 1, math.min(#list, args.max_listed) do out[i] = base(list[i].path) end
      if #list > args.max_listed then out[#out + 1] = string.format("and %d more", #list - args.max_listed) end
      return table.concat(out, ", ")
    end
    if #stale > 0 then
      local ev = {}
      for i, m in ipairs(stale) do ev[i] = { path = m.path, local_path = m.local_path, build_id = m.build_id,
                                              recorded_build_id = m.recorded_build_id } end
      report{
        message = string.format("%d module(s) differ from the target's build-ids: %s", #stale, names(stale)),
        evidence = { modules = ev },
        advice = "analyze on the machine that produced the target, or pass --sysroot with its files",
      }
    end
    if #replaced > 0 then
      local ev = {}
      for i, m in ipairs(replaced) do
        local path = m.path:gsub(" %(deleted%)$", "")
        local f = io.open(path, "rb")
        if f then f:close() end
        ev[i] = { path = path, build_id = m.build_id, now_on_disk = f ~= nil }
      end
      report{
        message = string.format("%d module(s) were replaced or deleted on disk after the process loaded them: %s",
          #replaced, names(replaced):gsub(" %(deleted%)", "")),
        evidence = { modules = ev },
        advice = "the process runs the old code: restart it to run the files on disk, and analyze its cores with the old files",
      }
    end
    if #foreign > 0 then
      local list = {}
      for i, m in ipairs(foreign) do list[i] = { path = m.path } end
      report{
        message = string.format("%d module(s) were built for another Python than the interpreter's %s: %s (for %s)",
          #foreign, interpreter, names(list), foreign[1].built_for),
        evidence = { interpreter = interpreter, modules = foreign },
        advice = "a PYTHONPATH, LD_LIBRARY_PATH or virtualenv of another Python version leaks into this process",
      }
    end
    if #missing > 0 then
      local ev = {}
      for i, m in ipairs(missing) do ev[i] = { path = m.path, recorded_build_id = m.recorded_build_id } end
      report{
        severity = "info",
        message = string.format("%d module(s) of the target are not on this machine: %s", #missing, names(missing)),
        evidence = { modules = ev },
        advice = "pass --sysroot DIR holding the target's files",
      }
    end
  end,
}
