-- help [COMMAND]: the registry is the documentation.
local registry = require("snag.command")

local function sorted_specs()
  local list = {}
  for _, spec in pairs(registry.registry) do list[#list + 1] = spec end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- Section titles of docs/commands.md, by the stdlib file that registers the commands.
local FAMILIES = {
  {"stack.lua", "Stacks and frames"}, {"threads.lua", "Threads"},
  {"registers.lua", "Registers"}, {"info.lua", "Modules and symbols"}, {"types.lua", "Types"},
  {"python.lua", "CPython"}, {"control.lua", "Live control"},
  {"help.lua", "Help"},
}

local function family_of(spec)
  for i, f in ipairs(FAMILIES) do
    if spec.source:sub(-#f[1]) == f[1] then return i end
  end
  return #FAMILIES + 1
end

-- One Markdown section per stdlib file, one entry per command: the registry as docs/commands.md
-- shows it (tests/unit/test_commands_doc.cpp fails when the page is out of date).
local function markdown(ctx)
  local groups = {}
  for _, spec in ipairs(sorted_specs()) do
    local i = family_of(spec)
    groups[i] = groups[i] or {}
    table.insert(groups[i], spec)
  end
  for i = 1, #FAMILIES + 1 do
    if groups[i] then
      local file = groups[i][1].source:match("(stdlib/.*)$") or groups[i][1].source
      ctx:printf("### %s\n\nFrom `%s`.\n\n", FAMILIES[i] and FAMILIES[i][2] or "Other commands", file)
      for _, spec in ipairs(groups[i]) do
        local synopsis = spec.args ~= "" and (" " .. spec.args:gsub("\n", " ")) or ""
        ctx:printf("#### `%s%s`\n\n", spec.name, synopsis)
        local notes = {}
        if #spec.aliases > 0 then notes[#notes + 1] = "Aliases: `" .. table.concat(spec.aliases, "`, `") .. "`." end
        if spec.live_only then notes[#notes + 1] = "Live processes only." end
        if #notes > 0 then ctx:printf("%s\n\n", table.concat(notes, " ")) end
        ctx:printf("%s\n\n", (spec.help:gsub("\n", "\\\n")))  -- "\" ends a Markdown line
      end
    end
  end
end

command{
  name = "help", aliases = {"h"}, args = "[COMMAND | --markdown]",
  help = "List the commands, or explain one: help bt, help info threads.\n" ..
         "help --markdown prints every command's help as Markdown (docs/commands.md's reference).",
  run = function(ctx, args)
    local name = args.raw:gsub("^%s+", ""):gsub("%s+$", "")
    if name == "--markdown" then return markdown(ctx) end
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
