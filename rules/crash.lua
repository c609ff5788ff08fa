-- Crash / Software Exception (patterns.md): the fatal signal of a core, the fault address, the
-- faulting thread's merged native + Python stack, the Exception Module (where the fault surfaced)
-- and the Origin Module (the first module outside libc and the interpreter below it).
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

local names = { [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP", [6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE",
                [11] = "SIGSEGV", [31] = "SIGSYS", [24] = "SIGXCPU", [25] = "SIGXFSZ" }
local faults = { [4] = true, [5] = true, [7] = true, [8] = true, [11] = true }

-- What si_code says about a fault (the kernel's words, shortened).
local meanings = {
  SEGV_MAPERR = "address not mapped", SEGV_ACCERR = "invalid permissions for the mapping",
  SEGV_BNDERR = "failed address bound checks", SEGV_PKUERR = "protection key denied access",
  BUS_ADRALN = "invalid address alignment", BUS_ADRERR = "nonexistent physical address (a mapped file shrank?)",
  BUS_OBJERR = "object-specific hardware error", BUS_MCEERR_AR = "hardware memory error consumed",
  BUS_MCEERR_AO = "hardware memory error detected",
  FPE_INTDIV = "integer divide by zero", FPE_INTOVF = "integer overflow", FPE_FLTDIV = "floating-point divide by zero",
  FPE_FLTOVF = "floating-point overflow", FPE_FLTUND = "floating-point underflow", FPE_FLTRES = "floating-point inexact result",
  FPE_FLTINV = "invalid floating-point operation", FPE_FLTSUB = "subscript out of range",
  ILL_ILLOPC = "illegal opcode", ILL_ILLOPN = "illegal operand", ILL_ILLADR = "illegal addressing mode",
  ILL_ILLTRP = "illegal trap", ILL_PRVOPC = "privileged opcode", ILL_PRVREG = "privileged register",
  ILL_COPROC = "coprocessor error", ILL_BADSTK = "internal stack error",
  TRAP_BRKPT = "breakpoint", TRAP_TRACE = "trace trap",
}
local senders = { SI_USER = "kill()", SI_TKILL = "tgkill()", SI_QUEUE = "sigqueue()", SI_MESGQ = "a message queue" }

local function called(frames, names)
  for i = 1, math.min(#frames, 12) do
    local fn = (frames[i]["function"] or ""):gsub("^_+", "")
    if names[fn] then return true end
  end
  return false
end

-- How the signal came, one phrase: " (SEGV_MAPERR: address not mapped) at address 0x0",
-- " sent by kill() from PID 24508 (uid 0)", " raised by abort()". And whether a fault address applies.
local function origin_of(sig, native)
  local code = sig.code_name or ""
  if sig.signo == 6 and called(native, { abort = true, ["GI_abort"] = true }) then return " raised by abort()", false end
  if senders[code] then
    local self = sig.sender_pid == target.pid
    if self and code == "SI_TKILL" then return " raised by the process itself (raise() or pthread_kill())", false end
    return string.format(" sent by %s from %s%s", senders[code], self and "the process itself, PID " .. sig.sender_pid
      or ("PID " .. tostring(sig.sender_pid)),
      (sig.sender_uid and sig.sender_uid >= 0) and string.format(" (uid %d)", sig.sender_uid) or ""), false
  end
  if sig.signo == 31 and sig.syscall then
    return string.format(" (%s: seccomp denied system call %s, number %d)", code ~= "" and code or "SYS_SECCOMP",
      sig.syscall_name, sig.syscall), false
  end
  if code == "SI_KERNEL" then
    return " from the kernel (SI_KERNEL" .. (sig.signo == 11 and ": a general-protection fault, e.g. a non-canonical address" or "")
      .. "; no fault address)", false
  end
  if faults[sig.signo] and sig.code and sig.code > 0 then
    local meaning = meanings[code]
    return string.format("%s at address 0x%x", code ~= "" and (" (" .. code .. (meaning and (": " .. meaning) or "") .. ")") or "",
      sig.fault_address or 0), true
  end
  return code ~= "" and (" (" .. code .. ")") or "", false
end

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
    local pytop = py and require("snag.app_frames").subject(py.frames)   -- the application's frame, not ctypes
    local how, is_fault = origin_of(sig, native)
    -- What gdb users type first at a fault: x/i $pc, the instruction that touched the address.
    local instruction
    if is_fault and native[1] and native[1].pc then
      local ok, list = pcall(t.disassemble, t, native[1].pc, 1)
      if ok and list and list[1] then
        instruction = list[1].decoded and list[1].text or (list[1].text .. " " .. list[1].bytes)
      end
    end
    report{
      message = string.format("%s%s in thread %s (tid %d): %s in %s%s%s", names[sig.signo], how,
        facts.thread_name(faulting.tid), faulting.tid, native[1] and (native[1]["function"] or "??") or "??",
        base(exception_module), instruction and (" at `" .. instruction:gsub("%s+", " ") .. "`") or "",
        pytop and (", Python " .. wait_chain.where(pytop)) or ""),
      threads = { faulting.tid }, frames = frames,
      origin = origin and (base(origin.module) .. "!" .. (origin["function"] or "?"))
        or (pytop and (base(pytop.file) .. "!" .. (pytop["function"] or "?"))) or nil,
      evidence = { signal = sig.signo, signal_name = names[sig.signo], code = sig.code, code_name = sig.code_name,
                   fault_address = is_fault and sig.fault_address or nil,
                   sender_pid = (not is_fault and sig.sender_pid ~= 0) and sig.sender_pid or nil,
                   sender_uid = (not is_fault and sig.sender_pid ~= 0) and sig.sender_uid or nil,
                   exception_module = exception_module, instruction = instruction,
                   origin_module = origin and origin.module or (pytop and pytop.file),
                   siginfo = sig, psinfo = t:psinfo() },
    }
  end,
}
