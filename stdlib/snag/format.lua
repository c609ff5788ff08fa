-- Text formatting shared by the commands, in gdb's shapes (addresses, frame lines).
local M = {}

-- 0x-prefixed hex of a 64-bit value (Lua integers are signed: %x prints two's complement).
function M.hex(n) return string.format("0x%x", n) end

-- 0x0000... padded to 16 digits, as gdb prints code addresses in backtraces.
function M.addr16(n) return string.format("0x%016x", n) end

function M.pad(text, width) return text .. string.rep(" ", width - #text) end

-- Base name of a path: "/usr/lib/libc.so.6" → "libc.so.6".
function M.basename(path) return (path:match("[^/]+$")) or path end

-- gdb's frame-line arguments, "(lock=0x7f…, n=3)", of frame f when it has DWARF; "()" otherwise
-- or when with_args is false (bt -no-args). Structs and arrays print as "..." (a.shown), as
-- gdb's default `print frame-arguments scalars` does.
function M.frame_args(f, with_args)
  local ok, args = false, nil
  if with_args ~= false and f.args then ok, args = pcall(f.args, f) end
  if not ok or type(args) ~= "table" then return "()" end
  local parts = {}
  for _, a in ipairs(args) do
    -- gdb's `print entry-values default`: x=x@entry=V when the value is still the entry value.
    local text = a.name .. "=" .. a.shown
    if a.entry_value == a.value then
      text = a.name .. "=" .. a.name .. "@entry=" .. a.shown
    elseif a.entry_value then
      text = text .. ", " .. a.name .. "@entry=" .. a.entry_shown
    end
    parts[#parts + 1] = text
  end
  return "(" .. table.concat(parts, ", ") .. ")"
end

-- "func (...) at file:line" or "0x... in func () from module", like gdb's frame lines.
function M.frame_body(f, with_address, with_args)
  local name = f["function"] or "??"
  local text
  if with_address then
    text = M.addr16(f.pc) .. " in " .. name .. " " .. M.frame_args(f, with_args)
  else
    text = name .. " " .. M.frame_args(f, with_args)
  end
  if f.file and f.line and f.line > 0 then
    text = text .. " at " .. f.file .. ":" .. f.line
  elseif f.module and f["function"] then
    text = text .. " from " .. f.module
  end
  return text
end

-- Whether gdb prints frame f's pc ("#2  0x... in"): not when a call inlined into f is the frame
-- inside it (f's pc is that call's: gdb shows the call's line alone), nor for an inlined frame 0;
-- frame 0's pc at a line start, which gdb also omits, snag does not tell apart.
function M.shows_address(f, inner)
  if inner and inner.physical == f.physical and inner.inlined then return false end
  return not (f.level == 0 and f.inlined)
end

-- "#3  0x... in f () at x.c:12"; inner is the frame inside f (nil for frame 0).
function M.frame_line(f, with_args, inner)
  return string.format("#%-2d %s", f.level, M.frame_body(f, M.shows_address(f, inner), with_args))
end

-- How many frames of stack gdb's bt shows: up to main's (gdb's default `backtrace past-main off`
-- hides __libc_start_call_main and _start); all of them on threads that do not run main.
function M.frames_to_main(stack)
  for i, f in ipairs(stack) do
    if f["function"] == "main" and not f.inlined then return i end
  end
  return #stack
end

-- gdb's thread label: 'Thread 0x7f.. (LWP 1234) "name"' (pthread_t when known); no name
-- when with_name is false, as in [Current thread is ...].
function M.thread_label(th, with_name)
  local label = th.pthread and string.format("Thread 0x%x (LWP %d)", th.pthread, th.tid)
                or ("LWP " .. th.tid)
  if with_name ~= false and th.name and th.name ~= "" then label = label .. ' "' .. th.name .. '"' end
  return label
end

-- The source line a frame stopped at, "12\tcode", when the file is readable here.
function M.source_line(f)
  if not (f.file and f.line and f.line > 0) then return nil end
  local here = target and target.file and target:file(f.file)
  local file = here and io.open(here, "r")
  if not file then return nil end
  local n, found = 0, nil
  for line in file:lines() do
    n = n + 1
    if n == f.line then found = line break end
  end
  file:close()
  return found and (f.line .. "\t" .. found) or nil
end

return M
