-- Spiking Thread (patterns.md): a thread consuming CPU. Live: CPU sampled over --duration while the
-- process runs. Cores: per-thread CPU times (snag dump and kernel cores record them; gdb's gcore
-- writes zeros, which this rule says in a note).
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")
local native_code = require("snag.native_code")
local idle = require("snag.idle")

-- The thread's frames and its subject: the innermost application frame (re.match's caller, not re).
local function frames_of(tid)
  local py = facts.python_by_tid()[tid]
  if py and #py.frames > 0 then
    local out = {}
    for i = 1, math.min(#py.frames, 8) do out[i] = py.frames[i] end
    return out, require("snag.app_frames").subject(py.frames)
  end
  local native = facts.stack(tid)
  local out = {}
  for i = 1, math.min(#native, 8) do out[i] = native[i] end
  return out, nil
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
    local usage, source = facts.cpu_usage(args.min_seconds)
    if not usage then report.note(source); return end
    table.sort(usage, function(a, b) return a.cpu > b.cpu end)
    for _, u in ipairs(usage) do
      -- On a loaded machine a spinning thread gets a small CPU share but is runnable throughout.
      local spinning = u.runnable and u.runnable >= args.min_runnable and u.cpu > 0.02
      -- Cores: CPU is cumulative since the thread started; one that waits at the dump is not spinning now.
      local waits_now = idle.classify(u.tid).class ~= "running"
      if (u.share >= args.min_share or spinning) and not (u.cumulative and waits_now) then
        local frames, top = frames_of(u.tid)
        local hot = top and not waits_now and native_code.hot_function(u.tid)
        report{
          message = string.format("%s (tid %d) used %.2f s of CPU (%d%% %s)%s%s", facts.thread_name(u.tid), u.tid,
            u.cpu, math.floor(u.share * 100 + 0.5), source, hot and (" in native " .. hot .. " under") or "",
            top and ((hot and " " or " in ") .. wait_chain.where(top)) or ""),
          threads = { u.tid }, frames = frames,
          evidence = { cpu_seconds = u.cpu, share = u.share, runnable = u.runnable, source = source, native = hot },
        }
      end
    end
  end,
}
