-- info registers [REG...], info vector, info all-registers: the selected frame's registers in
-- gdb's columns.
local fmt = require("snag.format")

local ORDER = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
                "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs",
                "fs_base", "gs_base" }
local FLAGS = { {0, "CF"}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"}, {9, "IF"},
                {10, "DF"}, {11, "OF"} }

local function eflags_text(v)
  local set = {}
  for _, f in ipairs(FLAGS) do
    if (v >> f[1]) & 1 == 1 then set[#set + 1] = f[2] end
  end
  return "[ " .. table.concat(set, " ") .. (#set > 0 and " " or "") .. "]"
end

-- gdb's natural column: pointers in hex (code with <symbol+off>), the rest as signed decimal.
local function natural(name, v)
  if name == "rip" then
    local sym = snag.symbolic(v)
    return fmt.hex(v) .. (sym and (" <" .. sym .. ">") or "")
  elseif name == "rsp" or name == "rbp" then
    return fmt.hex(v)
  elseif name == "eflags" then
    return eflags_text(v)
  end
  return string.format("%d", v)
end

-- The SSE/AVX registers as gdb's `info vector` lists them: mxcsr first, then xmm and ymm.
local function vector_names(regs)
  local names = {}
  if regs.mxcsr then names[#names + 1] = "mxcsr" end
  for _, kind in ipairs({"xmm", "ymm"}) do
    for i = 0, 15 do
      if regs[kind .. i] then names[#names + 1] = kind .. i end
    end
  end
  return names
end

-- One line: a vector register in hex lanes (gdb's `info registers ymm0`), mxcsr with its flags,
-- a general register in hex and its natural column.
local function print_register(ctx, regs, name)
  local v = regs[name]
  if name == "pc" then v = regs.rip elseif name == "sp" then v = regs.rsp
  elseif name == "fp" then v = regs.rbp end
  if v == nil then ctx:fail("Invalid register `%s'", name) end
  if type(v) == "string" then
    ctx:printf("%-15s%s\n", name, cmd("output/x $" .. name))
  elseif name == "mxcsr" then
    ctx:printf("%-15s%-20s%s\n", name, fmt.hex(v), cmd("output $mxcsr"))
  else
    ctx:printf("%-15s%-20s%s\n", name, fmt.hex(v), natural(name, v))
  end
end

local function selected_registers(ctx)
  local f = ctx:frame()
  local th = ctx:thread()
  if not th then ctx:fail("The program has no registers now.") end
  return f and f:registers() or th:registers()
end

-- info vector (general = false) and info all-registers (general registers first).
local function print_vector(ctx, general)
  local regs = selected_registers(ctx)
  local names = vector_names(regs)
  if #names == 0 and not general then ctx:fail("No vector registers recorded for this thread.") end
  if general then
    for _, name in ipairs(ORDER) do print_register(ctx, regs, name) end
  end
  for _, name in ipairs(names) do print_register(ctx, regs, name) end
end

command{
  name = "info registers", aliases = {"i r", "info reg"}, args = "[REG...]",
  help = "Show the selected frame's registers (all general ones, or the ones named:\n" ..
         "also mxcsr, xmm0-15 and ymm0-15, their lanes in hex as gdb prints them).\n" ..
         "In outer frames, registers unwinding does not recover (all but rip, rsp, rbp, rbx,\n" ..
         "r12-r15) show the innermost frame's value, as gdb does.",
  run = function(ctx, args)
    local regs = selected_registers(ctx)
    local names = #args > 0 and {} or ORDER
    for _, a in ipairs(args) do names[#names + 1] = (a:gsub("^%$", "")) end
    for _, name in ipairs(names) do print_register(ctx, regs, name) end
  end,
}

command{
  name = "info vector", args = "",
  help = "Show the SSE/AVX registers: mxcsr, xmm0-15 and ymm0-15 (when the core or the\n" ..
         "kernel recorded the thread's XSAVE state; ymm only on AVX machines).",
  run = function(ctx) print_vector(ctx, false) end,
}

command{
  name = "info all-registers", args = "",
  help = "Show the general registers, then mxcsr, xmm0-15 and ymm0-15 (x87 and AVX-512\n" ..
         "registers are not shown).",
  run = function(ctx) print_vector(ctx, true) end,
}
