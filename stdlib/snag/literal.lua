-- Lua literals of plain data (nil, booleans, numbers, strings, tables of them): how one session
-- hands a table to another (analyze --baseline), read back with load() in an empty environment.
local M = {}

local function encode(v, depth, out)
  local kind = type(v)
  if kind == "nil" or kind == "boolean" then out[#out + 1] = tostring(v)
  elseif kind == "number" then
    if math.type(v) == "integer" then out[#out + 1] = string.format("%d", v)
    elseif v ~= v then out[#out + 1] = "0/0"
    elseif v == math.huge or v == -math.huge then out[#out + 1] = v > 0 and "1/0" or "-1/0"
    else out[#out + 1] = string.format("%.17g", v) end
  elseif kind == "string" then out[#out + 1] = string.format("%q", v)
  elseif kind == "table" then
    if depth > 32 then error("literal: tables nested deeper than 32", 0) end
    out[#out + 1] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
      return type(a) < type(b)
    end)
    for _, k in ipairs(keys) do
      if type(k) ~= "string" and type(k) ~= "number" then error("literal: a key of type " .. type(k), 0) end
      out[#out + 1] = "["
      encode(k, depth + 1, out)
      out[#out + 1] = "]="
      encode(v[k], depth + 1, out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else error("literal: cannot encode a " .. kind, 0) end
end

-- The literal of v: a string that load("return " .. s) turns back into an equal value.
function M.encode(v)
  local out = {}
  encode(v, 0, out)
  return table.concat(out)
end

return M
