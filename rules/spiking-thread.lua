-- Spiking Thread (patterns.md): a thread consuming CPU. Live: CPU sampled over --duration while the
-- process runs. Cores: per-thread CPU times (snag dump and kernel cores record them; gdb's gcore
-- writes zeros, which this rule says in a note).
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

local function frames_of(tid)
  local py = facts.python_by_tid()[tid]
  if py and #py.frames > 0 then
    local out = {}
    for i = 1, math.min(#py.frames, 8) do out[i] = py.frames[i] end
    return out, py.frames[1]
  end
  local native = facts.stack(tid)
  local out = {}
  for i = 1, math.min(#native, 8) do out[i] = native[i] end
  return out, nil
end

-- {tid, cpu, share} of each thread, and a description of where the numbers come from.
local function cpu_usage(args)
  local samples = facts.samples
  if samples and samples.duration and samples.duration > 0 then
    local out = {}
    for _, s in ipairs(samples.threads) do
      out[#out + 1] = { tid = s.tid, cpu = s.cpu, share = s.cpu / samples.duration, runnable = s.runnable }
    end
    return out, string.format("over %.1f s of sampling", samples.duration)
  end
  if target.kind == "process" then return nil, "live process not sampled (--duration 0)" end
  -- Each thread's own time: kernel cores give the group leader the whole process's (facts.thread_cpu).
  local cpu_of = facts.thread_cpu()
  local out, total = {}, 0
  for _, th in ipairs(facts.threads()) do
    local cpu = cpu_of[th.tid]
    if cpu and cpu > 0 then total = total + cpu end
  end
  if total == 0 then return nil, "this core records no per-thread CPU times (gdb's gcore writes zeros); "
    .. "write cores with `snag dump` or let the kernel write them to see spiking threads" end
  for _, th in ipairs(facts.threads()) do
    local cpu = cpu_of[th.tid] or 0
    if cpu >= args.min_seconds then out[#out + 1] = { tid = th.tid, cpu = cpu, share = cpu / total, cumulative = true } end
  end
  return out, string.format("of %.2f s of CPU recorded in the core", total)
end

return {
  id = "spiking-thread",
  pattern = "Spiking Thread",
  title = "A thread consumes CPU",
  description = "Live: threads using more than min_share of a CPU over --duration. Cores: threads with "
    .. "more than min_share of the CPU time recorded for all threads and at least min_seconds.",
  severity = "warning",
  tags = { "default", "cpu", "counter-value" },
  targets = { "live", "core" },
  args = {
    min_share = { default = 0.5, help = "share of one CPU (live) or of all recorded CPU (cores)" },
    min_seconds = { default = 0.1, help = "cores: CPU seconds a thread needs to count" },
    min_runnable = { default = 0.8, help = "live: share of samples in state R that marks a spinning thread on a busy machine" },
  },
  check = function(t, args, report)
    local usage, source = cpu_usage(args)
    if not usage then report.note(source); return end
    table.sort(usage, function(a, b) return a.cpu > b.cpu end)
    for _, u in ipairs(usage) do
      -- On a loaded machine a spinning thread gets a small CPU share but is runnable throughout.
      local spinning = u.runnable and u.runnable >= args.min_runnable and u.cpu > 0.02
      if u.share >= args.min_share or spinning then
        local frames, top = frames_of(u.tid)
        report{
          message = string.format("%s (tid %d) used %.2f s of CPU (%d%% %s)%s", facts.thread_name(u.tid), u.tid,
            u.cpu, math.floor(u.share * 100 + 0.5), source, top and (" in " .. wait_chain.where(top)) or ""),
          threads = { u.tid }, frames = frames,
          evidence = { cpu_seconds = u.cpu, share = u.share, runnable = u.runnable, source = source },
        }
      end
    end
  end,
}
