-- info registers [REG...]: the selected frame's registers in gdb's three columns.
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

command{
  name = "info registers", aliases = {"i r", "info reg"}, args = "[REG...]",
  help = "Show the selected frame's registers (all general ones, or the ones named).\n" ..
         "In outer frames, registers unwinding does not recover (all but rip, rsp, rbp, rbx,\n" ..
         "r12-r15) show the innermost frame's value, as gdb does.",
  run = function(ctx, args)
    local f = ctx:frame()
    local th = ctx:thread()
    if not th then ctx:fail("The program has no registers now.") end
    local regs = f and f:registers() or th:registers()
    local names = #args > 0 and {} or ORDER
    for _, a in ipairs(args) do names[#names + 1] = (a:gsub("^%$", "")) end
    for _, name in ipairs(names) do
      local v = regs[name]
      if name == "pc" then v = regs.rip elseif name == "sp" then v = regs.rsp
      elseif name == "fp" then v = regs.rbp end
      if v == nil then ctx:fail("Invalid register `%s'", name) end
      ctx:printf("%-15s%-19s%s\n", name, fmt.hex(v), natural(name, v))
    end
  end,
}
