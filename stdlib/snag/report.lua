-- Reports of `snag analyze`: text for terminals (colors only when asked: the front end passes
-- color = true on a TTY), JSON (architecture.md's findings shape), Markdown for tickets, and the
-- wait-for graph in Graphviz DOT.
local M = {}

local function basename(p) return p and (p:match("[^/]+$") or p) or "?" end

-- ---- JSON ----
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n',
                  ['\r'] = '\\r', ['\t'] = '\\t' }

-- Strings from the target (names, reprs) may not be UTF-8: each bad byte becomes U+FFFD, as the
-- C++ reports do (report/json_text.hpp), so the document stays valid JSON.
local function valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then out[#out + 1] = s:sub(i); break end
    out[#out + 1] = s:sub(i, bad - 1) .. "\u{FFFD}"
    i = bad + 1
  end
  return table.concat(out)
end

local function json_string(s)
  return '"' .. valid_utf8(s):gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

-- Encodes v; empty tables become [] only under array keys (findings, threads…), else {}.
function M.json(v, as_array)
  local kind = type(v)
  if kind == "nil" then return "null" end
  if kind == "boolean" then return tostring(v) end
  if kind == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return string.format("%.14g", v)
  end
  if kind == "string" then return json_string(v) end
  if kind ~= "table" then return json_string(tostring(v)) end
  if (next(v) == nil and as_array) or (next(v) ~= nil and is_array(v)) then
    local parts = {}
    for i = 1, #v do parts[i] = M.json(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local x = v[k]
    if x == nil then x = v[tonumber(k)] end
    parts[#parts + 1] = json_string(k) .. ":" .. M.json(x, k == "threads" or k == "frames" or k == "findings"
      or k == "errors" or k == "rules_run" or k == "notes" or k == "processes" or k == "pids")
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- ---- text ----

-- "1, 2, 3 and 197 more": a thread-leak finding may name hundreds of threads (JSON has them all).
function M.tid_list(tids, max)
  local out = {}
  for i = 1, math.min(#tids, max) do out[i] = tostring(tids[i]) end
  local text = table.concat(out, ", ")
  if #tids > max then text = text .. string.format(" and %d more", #tids - max) end
  return text
end
-- "pid 12: " or, for a finding several processes share, "pids 12, 13, 14 (3 processes; pid 12): ".
function M.pid_label(f)
  if f.pids and #f.pids > 1 then
    return string.format("pids %s (%d processes; pid %s): ", M.tid_list(f.pids, 12), #f.pids, tostring(f.pid))
  end
  return "pid " .. tostring(f.pid) .. ": "
end

local colors = { critical = "\27[1;35m", error = "\27[1;31m", warning = "\27[1;33m", info = "\27[1;36m" }

local function frame_text(f)
  local name = f["function"] or "??"
  if f.file and f.line then return name .. " at " .. f.file .. ":" .. f.line end
  if f.module then return name .. " from " .. f.module end
  return name
end

-- " pids 12, 13": the processes of a tree a note concerns.
local function pids_text(pids)
  if not pids then return "" end
  return (#pids == 1 and ", pid " or ", pids ") .. M.tid_list(pids, 8)
end

-- "process tree: 5 processes: 100 python3, 101 python3 ..." (--children).
local function process_list(processes)
  local parts = {}
  for _, p in ipairs(processes) do
    parts[#parts + 1] = tostring(p.pid) .. ((p.title or p.name) and (" " .. (p.title or p.name)) or "")
      .. (p.failed and " (not analysed)" or "")
  end
  return string.format("process tree: %d processes: %s", #processes, table.concat(parts, ", "))
end

-- "SIGSEGV code 1 (SEGV_MAPERR) errno 0, address 0x10": a core's whole NT_SIGINFO.
function M.signal_text(sig)
  local parts = { string.format("%s code %d%s errno %d", sig.name or ("signal " .. tostring(sig.signo)), sig.code or 0,
    (sig.code_name or "") ~= "" and (" (" .. sig.code_name .. ")") or "", sig["errno"] or 0) }
  if (sig.fault_address or 0) ~= 0 then parts[#parts + 1] = string.format("address 0x%x", sig.fault_address) end
  if (sig.sender_pid or 0) ~= 0 then parts[#parts + 1] = string.format("sender pid %d uid %d", sig.sender_pid, sig.sender_uid or -1) end
  if sig.syscall then parts[#parts + 1] = string.format("system call %s (%d), arch 0x%x, at 0x%x", sig.syscall_name,
    sig.syscall, sig.arch or 0, sig.call_address or 0) end
  if sig.child_pid then parts[#parts + 1] = string.format("child pid %d status %d", sig.child_pid, sig.child_status or 0) end
  return table.concat(parts, ", ")
end

-- "state R, uid 0 gid 0, pid 12 ppid 1 pgrp 12 sid 12, nice 0, flags 0x400140, args: ./a.out x": NT_PRPSINFO.
function M.psinfo_text(ps)
  return string.format("state %s%s, uid %d gid %d, pid %d ppid %d pgrp %d sid %d, nice %d, flags 0x%x, args: %s",
    ps.state or "?", ps.zombie and " (zombie)" or "", ps.uid or -1, ps.gid or -1, ps.pid or 0, ps.ppid or 0,
    ps.pgrp or 0, ps.sid or 0, ps.nice or 0, ps.flags or 0, ps.psargs or "")
end

local function text(result, color)
  local out = {}
  local function add(s) out[#out + 1] = s end
  local t = result.target
  local tree = result.processes ~= nil
  add(string.format("snag analyze: %s %s%s (%s)%s", t.kind, t.pid and ("pid " .. t.pid) or "",
    t.name and (" " .. t.name) or "", t.executable or "?", t.python and (", Python " .. t.python) or ""))
  if tree then add(process_list(result.processes)) end
  if t.kind == "core" and t.signal then add("signal: " .. M.signal_text(t.signal)) end
  if t.kind == "core" and t.psinfo then add("process: " .. M.psinfo_text(t.psinfo)) end
  if t.baseline then add("baseline: " .. t.baseline .. " (an earlier dump, for the rules that compare two)") end
  if #result.findings == 0 then add("no findings (" .. #result.rules_run .. " rules run)") end
  for _, f in ipairs(result.findings) do
    local sev = f.severity:upper()
    if color then sev = colors[f.severity] .. sev .. "\27[0m" end
    add("")
    add(string.format("%s %s [%s]: %s", sev, f.rule, f.pattern, f.title))
    add("  " .. (tree and M.pid_label(f) or "") .. f.message)
    if #f.threads > 0 then add("  threads: " .. M.tid_list(f.threads, 12)) end
    for i, fr in ipairs(f.frames) do
      if i > 8 then add(string.format("    ... %d more frames", #f.frames - 8)); break end
      add("    " .. frame_text(fr))
    end
    if f.advice then add("  advice: " .. f.advice) end
    add("  bucket: " .. f.bucket)
  end
  for _, n in ipairs(result.notes) do add("note (" .. table.concat(n.rules or { n.rule }, ", ") .. pids_text(n.pids) .. "): " .. n.message) end
  for _, e in ipairs(result.errors) do
    local label = color and "\27[1;31merror\27[0m" or "error"
    add(string.format("%s in rule %s (%s%s): %s", label, e.rule, e.phase, tree and (", pid " .. tostring(e.pid)) or "", e.message))
  end
  return table.concat(out, "\n") .. "\n"
end

local function markdown(result)
  local out = {}
  local function add(s) out[#out + 1] = s end
  local t = result.target
  add(string.format("## snag analyze: %s %s `%s`%s", t.kind, t.pid or "", t.executable or "?",
    t.python and (" (Python " .. t.python .. ")") or ""))
  add("")
  if result.processes then add(process_list(result.processes)); add("") end
  if #result.findings == 0 then add("No findings (" .. #result.rules_run .. " rules run).") end
  for _, f in ipairs(result.findings) do
    add(string.format("### %s: %s (`%s`, %s)", f.severity:upper(), f.title, f.rule, f.pattern))
    add("")
    add(f.message)
    add("")
    if result.processes then
      add((f.pids and #f.pids > 1) and ("- pids: " .. M.tid_list(f.pids, 30)) or ("- pid: " .. tostring(f.pid)))
    end
    if #f.threads > 0 then add("- threads: " .. M.tid_list(f.threads, 30)) end
    add("- bucket: `" .. f.bucket .. "`")
    if f.advice then add("- advice: " .. f.advice) end
    if #f.frames > 0 then
      add("")
      add("```")
      for _, fr in ipairs(f.frames) do add(frame_text(fr)) end
      add("```")
    end
    add("")
  end
  if #result.notes > 0 then
    add("### Notes")
    for _, n in ipairs(result.notes) do add("- `" .. table.concat(n.rules or { n.rule }, "`, `") .. "`" .. pids_text(n.pids) .. ": " .. n.message) end
    add("")
  end
  if #result.errors > 0 then
    add("### Rule errors")
    for _, e in ipairs(result.errors) do
      add("- `" .. e.rule .. "` (" .. e.phase .. (result.processes and (", pid " .. tostring(e.pid)) or "") .. "): " .. e.message)
    end
    add("")
  end
  return table.concat(out, "\n")
end

function M.render(result, format, color)
  if format == "json" then return M.json(result) .. "\n" end
  if format == "markdown" then return markdown(result) .. "\n" end
  return text(result, color)
end

-- ---- wait-for graph (DOT): threads are boxes, locks ellipses, the cycle drawn red ----
function M.dot(graph, name_of)
  local out = { "digraph waitfor {", "  rankdir=LR;", '  node [fontname="monospace"];' }
  local function add(s) out[#out + 1] = s end
  local cyclic = graph.in_cycle or {}
  local threads = {}
  local tids = {}
  for tid in pairs(graph.edges) do tids[#tids + 1] = tid end
  table.sort(tids)
  local function thread_node(tid)
    if threads[tid] then return end
    threads[tid] = true
    add(string.format('  t%d [shape=box,label="%s\\ntid %d"%s];', tid, (name_of(tid) or ""):gsub('"', "'"), tid,
      cyclic[tid] and ",color=red,penwidth=2" or ""))
  end
  for _, tid in ipairs(tids) do
    local e = graph.edges[tid]
    thread_node(tid)
    local where = e.frame and string.format("%s:%s", basename(e.frame.file), e.frame.line or "?") or ""
    local red = cyclic[tid] and e.owner and cyclic[e.owner]
    if e.kind == "gil" then
      add(string.format('  gil [shape=ellipse,label="GIL"];'))
      add(string.format('  t%d -> gil [label="waits"%s];', tid, red and ",color=red" or ""))
      if e.owner then thread_node(e.owner); add(string.format('  gil -> t%d [label="held by"];', e.owner)) end
    else
      local lock = string.format("l%x", e.lock or 0)
      add(string.format('  %s [shape=ellipse,label="%s\\n0x%x%s"];', lock, e.lock_kind or "lock", e.lock or 0,
        e.confirmed and "" or "\\nowner unknown"))
      add(string.format('  t%d -> %s [label="waits at %s"%s];', tid, lock, where, red and ",color=red,penwidth=2" or ""))
      if e.owner then
        thread_node(e.owner)
        add(string.format('  %s -> t%d [label="held by"%s];', lock, e.owner, red and ",color=red,penwidth=2" or ""))
      end
    end
  end
  add("}")
  return table.concat(out, "\n") .. "\n"
end

return M
