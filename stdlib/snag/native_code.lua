-- Hot native code under Python (Spiking Thread): when a spinning thread's Python frame is inside a
-- C call (a regex match, a compression routine), the native function it runs, found among the
-- native frames above the interpreter's eval loop, skipping CPython's own machinery.
local facts = require("snag.facts")

local M = {}

-- CPython's machinery between the eval loop and a C function: calls, objects, allocation, the GIL.
M.interpreter = { "^_?Py", "^_PyEval", "^cfunction_", "^method_vectorcall", "^vectorcall", "^slot_tp",
  "^call_function", "^take_gil", "^drop_gil", "^object_vacall", "^pymalloc", "^_?PyObject", "^lookdict",
  "^insertdict", "^dict_", "^list_", "^tuple_", "^unicode_", "^long_", "^float_", "^type_call", "^_Py" }

-- libc's memory and string primitives, which a static build (Debian's python3) links in itself.
-- (glibc's tuned variants carry suffixes: __memcpy_avx_unaligned_erms).
M.libc_primitives = {}
for _, f in ipairs({ "memcpy", "memmove", "memset", "memcmp", "memchr", "memrchr", "bcmp", "strlen",
  "strnlen", "strcmp", "strncmp", "strchr", "strrchr", "strcpy", "strncpy", "strstr", "wmemset", "wcslen" }) do
  table.insert(M.libc_primitives, "^_*" .. f .. "$")
  table.insert(M.libc_primitives, "^_*" .. f .. "_")
end

local function matches(name, patterns)
  for _, p in ipairs(patterns) do if name:find(p) then return true end end
  return false
end

local function is_interpreter(name) return matches(name, M.interpreter) end

local function base(p) return p and (p:match("[^/]*$")) or "?" end

-- "sre_ucs1_match in python3.11" for thread tid, or nil when it runs Python bytecode itself.
function M.hot_function(tid)
  local native = facts.stack(tid)
  for i = 1, math.min(#native, 32) do
    local name = native[i]["function"]
    if not name then return nil end
    if name:find("EvalFrame", 1, true) then return nil end
    local in_libc = (native[i].module or ""):find("/libc[.-]") or (native[i].module or ""):find("/ld%-linux")
    in_libc = in_libc or matches(name, M.libc_primitives)
    if not is_interpreter(name) and not in_libc then   -- memmove under sre_ucs1_match names sre_ucs1_match
      return string.format("%s in %s", name, base(native[i].module)), native[i]
    end
  end
  return nil
end

return M
