-- Application frames: a finding's subject is the innermost frame of the application's own code,
-- not the standard library, site-packages or libc (the library frame stays in the evidence).
-- What counts is a list of glob patterns over a Python frame's file or a native frame's module,
-- "+glob" marks application code and "-glob" library code; the last pattern that matches wins
-- (Sentry's in-app rules), so a team's "+*/site-packages/ourcompany/*" overrides a default.
local M = {}

M.defaults = {
  "-*/lib/python[0-9]*/*",          -- the standard library (Debian, pyenv, venvs' base)
  "-*/lib/python3/dist-packages/*", -- Debian's packaged modules (gunicorn, flask...)
  "-*/site-packages/*", "-*/dist-packages/*",
  "-<frozen *",
  "-*/libc.so*", "-*/libc-*", "-*/libpthread*", "-*/ld-linux*", "-*/libpython*", "-*/libstdc++*",
  "-*/libgcc_s*", "-*/libm.so*", "-*/libffi*", "-*/libjemalloc*", "-*/bin/python*", "-*/lib-dynload/*",
}
M.patterns = {}
for i, p in ipairs(M.defaults) do M.patterns[i] = p end

-- A glob (* any run, ? one character, [0-9] a class) as an anchored Lua pattern.
local function lua_pattern(glob)
  local out, in_class = { "^" }, false
  for c in glob:gmatch(".") do
    if in_class then
      out[#out + 1] = c
      if c == "]" then in_class = false end
    elseif c == "[" then out[#out + 1] = c; in_class = true
    elseif c == "*" then out[#out + 1] = ".*"
    elseif c == "?" then out[#out + 1] = "."
    elseif c:match("[%^%$%(%)%%%.%]%+%-]") then out[#out + 1] = "%" .. c
    else out[#out + 1] = c end
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

local compiled
local function rules()
  if compiled then return compiled end
  compiled = {}
  for _, p in ipairs(M.patterns) do
    local sign, glob = p:sub(1, 1), p:sub(2)
    if sign ~= "+" and sign ~= "-" then sign, glob = "+", p end
    compiled[#compiled + 1] = { app = sign == "+", pattern = lua_pattern(glob) }
  end
  return compiled
end

-- Adds "+glob"/"-glob" patterns after the defaults (a team's rules directory: see docs/rules.md).
function M.add(patterns)
  for _, p in ipairs(patterns) do
    if type(p) ~= "string" or p == "" then error("app_frames: patterns are strings like \"+*/myapp/*\"", 2) end
    M.patterns[#M.patterns + 1] = p
  end
  compiled = nil
end

-- True when frame is application code; frames with no file or module are not.
function M.is_app(frame)
  if type(frame) ~= "table" then return false end
  local where = frame.file or frame.module
  if frame.kind == "native" or (frame.pc and not frame.code) then where = frame.module or frame.file end
  if not where or where == "" then return false end
  local app = true
  for _, r in ipairs(rules()) do
    if where:match(r.pattern) then app = r.app end
  end
  return app
end

-- The innermost application frame of frames (innermost first), and the innermost frame itself
-- when it differs (the library frame a finding keeps in its evidence).
function M.subject(frames)
  if not frames or #frames == 0 then return nil end
  for _, f in ipairs(frames) do
    if M.is_app(f) then return f, f ~= frames[1] and frames[1] or nil end
  end
  return frames[1]
end

return M
