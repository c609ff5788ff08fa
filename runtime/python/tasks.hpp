// asyncio Tasks: every task of the _asyncio C module (3.8–3.15) read from a stopped target or a
// core: name, state, the coroutine chain it is suspended in, what it awaits and who awaits it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "python/frames.hpp"
#include "python/runtime_discovery.hpp"
#include "python/threads.hpp"
#include "symbols/symbolizer.hpp"

namespace snag::python {

struct AsyncTask {
    uint64_t address = 0, loop = 0, coro = 0;
    std::string type;              // "_asyncio.Task" or a subclass
    std::string name;              // Task.get_name()
    std::string state;             // "pending", "cancelled", "finished"
    bool running = false;          // its coroutine is executing now (it is on the loop's thread)
    std::vector<PyFrame> stack;    // the await chain, innermost coroutine first
    uint64_t waiter = 0;           // the future its __step waits on (Task._fut_waiter)
    std::string waiter_type;
    // What it waits for, for people: "task", "gather", "sleep", "lock", "event", "condition",
    // "semaphore", "queue", "socket", "taskgroup", "future"; "ready" (scheduled), "running", ""
    // (done).
    std::string kind;
    std::string awaiting;          // "Lock.acquire", "task 'worker-2'", "sleep", ...
    std::vector<uint64_t> awaits;      // tasks it waits for
    std::vector<uint64_t> awaited_by;  // tasks waiting for it
};

struct AsyncLoop {
    uint64_t address = 0;
    uint64_t thread_id = 0;        // BaseEventLoop._thread_id: threading ident while it runs
    std::vector<size_t> tasks;     // indexes into AsyncState::tasks
};

struct AsyncState {
    bool asyncio_loaded = false;   // asyncio.tasks is in sys.modules
    std::vector<AsyncTask> tasks;  // in the order of the all-tasks sets
    std::vector<AsyncLoop> loops;
    std::vector<std::vector<uint64_t>> cycles;  // tasks awaiting each other, each cycle once
    std::vector<std::string> warnings;
};

// Reads the tasks of the main interpreter. Needs a stopped target (or a core); never throws.
// 3.14+ keep them in per-thread lists described by the _asyncio module's debug offsets, found
// through symbols (without them: a warning and no tasks).
// With the thread states, a running task's await chain comes from its thread's stack.
AsyncState read_async_tasks(Target& target, const PythonRuntime& runtime,
                            const PythonState* threads = nullptr, Symbolizer* symbols = nullptr);

// Await cycles among tasks (by address), each listed once from its smallest address.
std::vector<std::vector<uint64_t>> find_await_cycles(const std::vector<AsyncTask>& tasks);

}  // namespace snag::python
