-- Active Thread (patterns.md): the threads that run rather than wait — live, those that used CPU
-- or were runnable during the --duration sampling; cores, those with CPU time recorded in the core
-- (snag dump and kernel cores record it; gcore writes zeros, which gets a note). In one line, with
-- where each one is.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

return {
  id = "active-threads",
  pattern = "Active Thread",
  title = "Threads that are running",
  description = "Live: threads that used more than min_share of a CPU, or were runnable in most samples, during "
    .. "--duration. Cores: threads with at least min_seconds and min_share of the CPU time the core records.",
  severity = "info",
  tags = { "default", "cpu" },
  targets = { "live", "core" },
  args = {
    min_share = { default = 0.05, help = "share of one CPU (live) or of all recorded CPU (cores) that makes a thread active" },
    min_seconds = { default = 0.1, help = "cores: CPU seconds a thread needs to count" },
  },
  check = function(t, args, report)
    local usage, source = facts.cpu_usage(args.min_seconds)
    if not usage then
      if t.kind ~= "process" then report.note(source) end
      return
    end
    local active, parts, frames = {}, {}, {}
    for _, u in ipairs(usage) do
      if u.share >= args.min_share or (u.runnable or 0) >= 0.5 then
        active[#active + 1] = u.tid
        local py = facts.python_by_tid()[u.tid]
        local top = py and py.frames and py.frames[1]
        local cpu = u.cumulative and string.format("%.2f s, %d%% of the CPU", u.cpu, math.floor(u.share * 100 + 0.5))
          or string.format("%d%% CPU", math.floor(u.share * 100 + 0.5))
        parts[#parts + 1] = string.format("%s (tid %d, %s%s)", facts.thread_name(u.tid), u.tid, cpu,
          top and (", " .. wait_chain.where(top)) or "")
        if top then frames[#frames + 1] = top end
      end
    end
    if #active == 0 then return end
    local total = facts.samples and #facts.samples.threads or #facts.threads()
    report{
      message = string.format("%d of %d threads ran (%s): %s", #active, total, source, table.concat(parts, "; ")),
      threads = active, frames = frames,
      evidence = { seconds = facts.samples and facts.samples.duration or nil, source = source },
    }
  end,
}
