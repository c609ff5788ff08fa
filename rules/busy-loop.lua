-- Busy loop (patterns.md case 6, the vanished-zip-file loop): a thread burns CPU running Python
-- code — not waiting for a lock, the GIL or a blocking call — and the loop's frames are shown.
local facts = require("snag.facts")
local blocked = require("snag.blocked_thread")
local wait_chain = require("snag.wait_chain")

return {
  id = "busy-loop",
  pattern = "Spiking Thread",
  title = "A thread spins in a Python loop",
  description = "Live: a thread using more than min_share of a CPU over --duration whose Python stack is "
    .. "running (not blocked). Names the loop's innermost application frames.",
  severity = "warning",
  tags = { "default", "python", "cpu" },
  targets = { "live" },
  args = {
    min_share = { default = 0.5, help = "share of one CPU over the sampling interval" },
    min_runnable = { default = 0.8, help = "share of samples in state R that marks a spinning thread on a busy machine" },
  },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    local s = facts.samples
    if not s or not s.duration or s.duration <= 0 then report.note("busy-loop needs live sampling (--duration > 0)"); return end
    for _, sample in ipairs(s.threads) do
      local share = sample.cpu / s.duration
      local py = facts.python_by_tid()[sample.tid]
      local spinning = share >= args.min_share or ((sample.runnable or 0) >= args.min_runnable and sample.cpu > 0.02)
      if spinning and py and #py.frames > 0 and not py.waiting_on and not py.waiting_for_gil
        and not blocked.waiting_call(facts.stack(sample.tid), 3) then
        local frames, app = {}, {}
        for i = 1, math.min(#py.frames, 8) do
          frames[i] = py.frames[i]
          local file = py.frames[i].file or ""
          if #app < 3 and not file:find("/lib/python%d") and not file:find("^<frozen") then
            app[#app + 1] = wait_chain.where(py.frames[i])
          end
        end
        report{
          message = string.format("%s (tid %d) spins at %d%% CPU running Python: %s; the loop: %s", facts.thread_name(sample.tid),
            sample.tid, math.floor(share * 100 + 0.5), wait_chain.where(py.frames[1]),
            #app > 0 and table.concat(app, " <- ") or "?"),
          threads = { sample.tid }, frames = frames,
          evidence = { cpu_share = share, runnable = sample.runnable, seconds = s.duration },
          advice = "check the loop's exit condition; live, `break open` with a py-bt action shows who calls a repeated syscall",
        }
      end
    end
  end,
}
