-- help [COMMAND]: the registry is the documentation.
local registry = require("snag.command")

local function sorted_specs()
  local list = {}
  for _, spec in pairs(registry.registry) do list[#list + 1] = spec end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

command{
  name = "help", aliases = {"h"}, args = "[COMMAND]",
  help = "List the commands, or explain one: help bt, help info threads.",
  run = function(ctx, args)
    local name = args.raw:gsub("^%s+", ""):gsub("%s+$", "")
    if name == "" then
      ctx:print("List of commands:\n")
      for _, spec in ipairs(sorted_specs()) do
        local live = spec.live_only and " (live processes only)" or ""
        ctx:printf("%s -- %s%s\n", spec.name, registry.summary(spec), live)
      end
      ctx:print('\nType "help" followed by a command name for its full documentation.')
      ctx:print("Expressions and scripts (print, x, set, printf, define, source) are built into")
      ctx:print("the command language; `lua CODE` or `=EXPR` evaluates Lua.")
      return
    end
    local spec = registry.lookup(name)
    if not spec then ctx:fail('Undefined command: "%s".  Try "help".', name) end
    ctx:print(spec.help)
    ctx:printf("Usage: %s%s\n", spec.name, spec.args ~= "" and (" " .. spec.args) or "")
    if #spec.aliases > 0 then ctx:print("Aliases: " .. table.concat(spec.aliases, ", ")) end
    if spec.live_only then ctx:print("Works on live processes only, not on core files.") end
    if spec.source ~= "?" then ctx:print("Defined in " .. spec.source) end
  end,
}
