-- info sharedlibrary (with build-ids and whether the file here matches the target's) and
-- info symbol ADDR.
local fmt = require("snag.format")
local expr = require("snag.expr")

local function match_status(m)
  if not m.found then return "missing" end
  if not m.matches then return "MISMATCH" end
  return "ok"
end

command{
  name = "info sharedlibrary", aliases = {"info shared", "info dll"}, args = "[REGEX]",
  help = "List the loaded modules with build-ids and whether the files here match.\n" ..
         "Columns: address range, where debug info came from, match status (ok; MISMATCH:\n" ..
         "the file here has another build-id; missing: not found, see --sysroot), build-id.",
  run = function(ctx, args)
    local pattern = args[1]
    ctx:printf("%-19s %-19s %-10s %-8s %-40s %s\n", "From", "To", "Debug", "Match", "Build-id",
               "Shared Object Library")
    local shown = 0
    for _, m in ipairs(target:modules()) do
      if not pattern or m.path:find(pattern) then
        local build_id = m.recorded_build_id ~= "" and m.recorded_build_id or m.build_id
        ctx:printf("%-19s %-19s %-10s %-8s %-40s %s\n", fmt.addr16(m.start), fmt.addr16(m.stop),
                   m.debug_source, match_status(m), build_id ~= "" and build_id or "-", m.path)
        shown = shown + 1
      end
    end
    if shown == 0 then
      ctx:print(pattern and "No shared libraries matched." or "No shared libraries loaded at this time.")
    end
  end,
}

command{
  name = "info symbol", args = "ADDR",
  help = "Name the symbol that contains ADDR (a number, $register, &symbol or symbol+offset).\n" ..
         "Prints 'NAME + OFFSET in section SECTION of MODULE' as gdb does, or says no symbol\n" ..
         "matches.",
  run = function(ctx, args)
    if args.raw:match("^%s*$") then ctx:fail("Argument required (address).") end
    local addr, err = expr.value(args.raw)
    if not addr then ctx:fail(err) end
    -- gdb names the ELF symbol here (clock_nanosleep), not the DWARF one (__GI___clock_nanosleep).
    local name, offset = target:elf_symbol(addr)
    if not name then
      local sym = target:symbol(addr)
      if sym then name, offset = sym.name, sym.offset end
    end
    if not name then
      ctx:printf("No symbol matches %s.\n", (args.raw:gsub("^%s+", ""):gsub("%s+$", "")))
      return
    end
    local m = target:module_at(addr)
    local section = target:section(addr)
    local where = m and ((section and (" in section " .. section .. " of ") or " in ") .. m.path) or ""
    if offset and offset ~= 0 then
      ctx:printf("%s + %d%s\n", name, offset, where)
    else
      ctx:printf("%s%s\n", name, where)
    end
  end,
}
