-- ptype TYPE: a type's layout from the target's DWARF (or a C base type).
command{
  name = "ptype", args = "TYPE",
  help = "Print the definition of TYPE (struct X, a typedef, a base type) from debug info.\n" ..
         "Example: ptype struct _ts",
  run = function(ctx, args)
    local name = args.raw:gsub("^%s+", ""):gsub("%s+$", "")
    if name == "" then ctx:fail("Argument required (one or more type names).") end
    local t = target:type(name)
    if not t then ctx:fail('No symbol "%s" in current context.', name) end
    ctx:print("type = " .. t.ptype)
  end,
}
