-- Arguments that name a value: 1234, 0x401000, $rip, $pc, $myvar, main, &counter, 'sym+8'. Full C
-- expressions belong to the command language (print, x); commands written in Lua need only these.
local M = {}

local function term(text)
  if text:match("^%-?%d+$") then return math.tointeger(tonumber(text)) end
  if text:match("^0[xX]%x+$") then return math.tointeger(tonumber(text:sub(3), 16)) end
  local var = text:match("^%$([%w_]+)$")
  if var then
    local v = snag.convenience(var)
    if v ~= nil then return v end
    local reg, err = snag.register(var)
    if reg then return reg end
    return nil, err
  end
  local taken = text:match("^&%s*([%a_][%w_.:@!]*)$")  -- &sym: the same address as sym
  if taken then text = taken end
  if text:match("^[%a_][%w_.:@!]*$") then
    local a = target:address(text)
    if a then return a end
    return nil, 'No symbol "' .. text .. '" in current context.'
  end
  return nil, "cannot evaluate " .. text .. " (use print for full expressions)"
end

-- value("main+16") → integer, or nil and a gdb-style message.
function M.value(text)
  text = text:gsub("^%s+", ""):gsub("%s+$", "")
  local left, op, right = text:match("^(.-)%s*([%+%-])%s*(%w+)$")
  if left and left ~= "" then
    local a, err = term(left)
    if not a then return nil, err end
    local b, err2 = term(right)
    if not b then return nil, err2 end
    return op == "+" and a + b or a - b
  end
  return term(text)
end

return M
