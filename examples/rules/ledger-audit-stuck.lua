-- A team rule: in our ledger service an `audit` that blocks on the ledger lock means a withdraw
-- left the lock held after an exception (the bug of examples/scenarios/py_exception_deadlock.py).
-- Run it with: snag analyze PID --rules examples/rules
local facts = require("snag.facts")
local wait_chain = require("snag.wait_chain")

return {
  id = "ledger-audit-stuck",
  pattern = "Blocked Thread",
  title = "The ledger audit is stuck on the ledger lock",
  description = "A thread inside `audit` waits on a lock: a withdraw path left it held.",
  severity = "error",
  tags = { "team", "ledger", "python" },
  targets = { "live", "core" },
  args = { ["function"] = { default = "audit", help = "the function that must not block" } },
  applies = function(t) return t.python ~= nil end,
  check = function(t, args, report)
    for _, py in ipairs(facts.python_threads() or {}) do
      if py.waiting_on then
        for _, f in ipairs(py.frames) do
          if f["function"] == args["function"] then
            report{
              message = string.format("%s is blocked in %s on %s 0x%x: look for a withdraw that raised while holding it",
                py.name or tostring(py.tid), wait_chain.where(f), py.waiting_on.type or "a lock", py.waiting_on.address or 0),
              threads = { py.tid }, frames = py.frames[1] == f and { f } or { py.frames[1], f },
              evidence = { lock = py.waiting_on.lock },
              advice = "release the ledger lock in a finally: block (or use `with lock:`)",
            }
            break
          end
        end
      end
    end
  end,
}
