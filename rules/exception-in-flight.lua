-- Managed Code Exception / Nested Exception (patterns.md): Python exceptions being raised or
-- handled right now, with their __context__/__cause__ chain.
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

return {
  id = "exception-in-flight",
  pattern = "Nested Exception",
  title = "A Python exception is being handled or raised",
  description = "Thread states whose current exception is set: the exception, its chain and the frame handling it.",
  severity = "warning",
  tags = { "default", "python", "exception" },
  targets = { "live", "core" },
  args = {},
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    for _, py in ipairs(facts.python_threads() or {}) do
      local exc = py.exception
      if exc and exc.chain and #exc.chain > 0 then
        local parts = {}
        for i, link in ipairs(exc.chain) do
          local text = link.value or link.type or "?"
          if i > 1 then text = (link.relation == "cause" and "caused by " or "while handling ") .. text end
          parts[#parts + 1] = text
        end
        local frames = {}
        for i = 1, math.min(#py.frames, 8) do frames[i] = py.frames[i] end
        report{
          severity = #exc.chain > 1 and "warning" or "info",
          pattern = #exc.chain > 1 and "Nested Exception" or "Managed Code Exception",
          message = string.format("%s is %s %s in %s", py.name or tostring(py.tid), exc.state or "handling",
            table.concat(parts, ", "), wait_chain.where(py.frames[1])),
          threads = { py.tid }, frames = frames,
          evidence = { state = exc.state, chain = exc.chain },
        }
      end
    end
  end,
}
