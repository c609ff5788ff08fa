-- Crash / Software Exception (patterns.md): the fatal signal of a core, the fault address, the
-- faulting thread's merged native + Python stack, the Exception Module (where the fault surfaced)
-- and the Origin Module (the first module outside libc and the interpreter below it).
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

local names = { [4] = "SIGILL", [5] = "SIGTRAP", [6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE",
                [11] = "SIGSEGV", [31] = "SIGSYS", [24] = "SIGXCPU", [25] = "SIGXFSZ" }
local faults = { [4] = true, [7] = true, [8] = true, [11] = true }

local function base(p) return p and (p:match("[^/]*$")) or "?" end
local function is_runtime(path)
  if not path then return false end
  local b = base(path)
  return b:match("^libc[.-]") or b:match("^libpthread") or b:match("^ld%-linux") or b:match("^libpython")
    or b:match("^python%d") or b:match("^libffi") or b:match("^_ctypes") ~= nil
end

return {
  id = "crash",
  pattern = "Crash",
  title = "The process died from a fatal signal",
  description = "Cores written at a fatal signal (kernel cores, JIT dumps): signal, fault address, the "
    .. "faulting thread's native and Python frames, exception and origin modules.",
  severity = "critical",
  tags = { "default", "crash" },
  targets = { "core" },
  args = {},
  check = function(t, args, report)
    local sig = t:signal()
    if not sig or not names[sig.signo] then return end
    local faulting
    for _, th in ipairs(facts.threads()) do
      if th.signal == sig.signo then faulting = th; break end
    end
    faulting = faulting or facts.threads()[1]
    local native = facts.stack(faulting.tid)
    local py = facts.python_by_tid()[faulting.tid]
    -- The fault's native frames, then the Python code that led there (the merged view, short).
    local frames = {}
    for i = 1, math.min(#native, 4) do frames[#frames + 1] = native[i] end
    if py then for i = 1, math.min(#py.frames, 6) do frames[#frames + 1] = py.frames[i] end end
    local exception_module = native[1] and native[1].module
    local origin
    for _, f in ipairs(native) do
      if f.module and not is_runtime(f.module) and f.module ~= exception_module then origin = f; break end
    end
    local pytop = py and py.frames[1]
    local fault = faults[sig.signo] and sig.fault_address and string.format(" at address 0x%x", sig.fault_address) or ""
    report{
      message = string.format("%s%s in thread %s (tid %d): %s in %s%s", names[sig.signo], fault,
        facts.thread_name(faulting.tid), faulting.tid, native[1] and (native[1]["function"] or "??") or "??",
        base(exception_module), pytop and (", Python " .. wait_chain.where(pytop)) or ""),
      threads = { faulting.tid }, frames = frames,
      origin = origin and (base(origin.module) .. "!" .. (origin["function"] or "?"))
        or (pytop and (base(pytop.file) .. "!" .. (pytop["function"] or "?"))) or nil,
      evidence = { signal = sig.signo, signal_name = names[sig.signo], code = sig.code,
                   fault_address = sig.fault_address, exception_module = exception_module,
                   origin_module = origin and origin.module or (pytop and pytop.file) },
    }
  end,
}
