-- Busy loop (patterns.md case 6, the vanished-zip-file loop): a thread burns CPU running Python
-- code — not waiting for a lock, the GIL or a blocking call — with the same frames in every sample.
-- Live: Python stacks sampled over --duration (tag stack-samples); the loop's frames are those
-- common to every sample. Cores: one snapshot and the CPU times the core records.
local facts = require("snag.facts")
local blocked = require("snag.blocked_thread")
local wait_chain = require("snag.wait_chain")
local sets = require("snag.stack_trace_set")

-- Application code: not the standard library (nor site-packages under it), not frozen modules.
local function is_app(f)
  local file = f.file or ""
  return not file:find("/lib/python%d") and not file:find("^<frozen")
end

-- "f (file:line) <- g (file:line)": the innermost run of application frames (up to 3: library
-- frames below end it, e.g. a pool worker's, whose callers are the parent's frames before the fork),
-- else the innermost frames.
local function loop_text(frames)
  local app = {}
  for _, f in ipairs(frames) do
    if #app >= 3 or (#app > 0 and not is_app(f)) then break end
    if is_app(f) then app[#app + 1] = wait_chain.where(f) end
  end
  if #app == 0 then
    for i = 1, math.min(#frames, 3) do app[i] = wait_chain.where(frames[i]) end
  end
  return #app > 0 and table.concat(app, " <- ") or "?"
end

local function first(list, n)
  local out = {}
  for i = 1, math.min(#list, n) do out[i] = list[i] end
  return out
end

local function running(tid, py)
  return py and #py.frames > 0 and not py.waiting_on and not py.waiting_for_gil
    and not blocked.waiting_call(facts.stack(tid), 3)
end

return {
  id = "busy-loop",
  pattern = "Spiking Thread",
  title = "A thread spins in a Python loop",
  description = "A thread using more than min_share of a CPU whose Python stack is running (not blocked). Live: "
    .. "its Python stack is sampled over --duration and the loop's frames are those in every sample; a thread "
    .. "running different code each time is not a loop. Cores: one snapshot and the core's CPU times.",
  severity = "warning",
  tags = { "default", "python", "cpu", "stack-samples" },
  targets = { "live", "core" },
  args = {
    min_share = { default = 0.5, help = "share of one CPU over the sampling interval (cores: of all recorded CPU)" },
    min_runnable = { default = 0.8, help = "share of samples in state R that marks a spinning thread on a busy machine" },
    min_seconds = { default = 0.1, help = "cores: CPU seconds a thread needs to count" },
    max_inner = { default = 2, help = "application frames allowed inside the loop's innermost common frame" },
  },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local usage, source = facts.cpu_usage(args.min_seconds)
    if not usage then report.note(source); return end
    local stacks = facts.samples and facts.samples.stacks
    if stacks and stacks.error then report.note("Python stacks not sampled: " .. stacks.error) end
    table.sort(usage, function(a, b) return a.cpu > b.cpu end)
    for _, u in ipairs(usage) do
      local py = facts.python_by_tid()[u.tid]
      local spinning = u.share >= args.min_share or ((u.runnable or 0) >= args.min_runnable and u.cpu > 0.02)
      local cpu = u.cumulative
        and string.format("used %.2f s of CPU (%d%% %s)", u.cpu, math.floor(u.share * 100 + 0.5), source)
        or string.format("spins at %d%% CPU", math.floor(u.share * 100 + 0.5))
      local sampled = stacks and stacks.threads and stacks.threads[u.tid]
      if spinning and sampled and #sampled >= 2 then
        local frames, lines = sets.common_frames(sampled, args.max_inner, is_app)
        local name = facts.thread_name(u.tid)
        if not frames then
          report.note(string.format("%s (tid %d) uses %d%% CPU but is no loop over %d samples: %s", name, u.tid,
            math.floor(u.share * 100 + 0.5), #sampled, lines))
        else
          report{
            message = string.format("%s (tid %d) %s in the same Python frames in %d/%d samples; the loop: %s",
              name, u.tid, cpu, #sampled, stacks.count, loop_text(frames)),
            threads = { u.tid }, frames = first(frames, 8),
            evidence = { cpu_share = u.share, runnable = u.runnable, seconds = facts.samples.duration,
                         samples = #sampled, of = stacks.count, lines = lines,
                         source = string.format("%d Python stack samples %s", stacks.count, source) },
            advice = "check the loop's exit condition; live, `break open` with a py-bt action shows who calls a repeated syscall",
          }
        end
      elseif spinning and running(u.tid, py) then
        local why = t.kind == "core" and "one snapshot (a core) and the CPU times it records"
          or "one snapshot: the Python stacks were not sampled"
        report{
          message = string.format("%s (tid %d) %s running Python: %s; the loop: %s", facts.thread_name(u.tid), u.tid,
            cpu, wait_chain.where(py.frames[1]), loop_text(py.frames)),
          threads = { u.tid }, frames = first(py.frames, 8),
          evidence = { cpu_share = u.share, cpu_seconds = u.cpu, runnable = u.runnable,
                       seconds = facts.samples and facts.samples.duration or nil, samples = 1,
                       source = why .. ", " .. source },
          advice = "check the loop's exit condition; live, `break open` with a py-bt action shows who calls a repeated syscall",
        }
      end
    end
  end,
}
