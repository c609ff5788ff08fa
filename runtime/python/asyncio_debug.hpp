// asyncio debug offsets (3.14+): the _Py_AsyncioModuleDebugOffsets the _asyncio module exports
// in its ".AsyncioDebug" section (symbol _AsyncioDebug) for out-of-process tools: the task
// object's fields and where each thread (and the interpreter, for tasks of exited threads)
// keeps its linked list of tasks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "python/layout.hpp"
#include "python/memory.hpp"
#include "symbols/symbolizer.hpp"

namespace snag::python {

struct AsyncioDebug {
    uint64_t address = 0;   // of the section in the target
    std::string found_by;   // "section .AsyncioDebug of /usr/bin/python3.15", "symbol _AsyncioDebug"
    // asyncio_task_object: TaskObj's size and fields (task_node: its struct llist_node).
    uint64_t task_size = 0, task_name = 0, task_awaited_by = 0, task_is_task = 0;
    uint64_t task_awaited_by_is_set = 0, task_coro = 0, task_node = 0;
    // asyncio_interpreter_state / asyncio_thread_state: list heads inside PyInterpreterState
    // and _PyThreadStateImpl, and the loop and task a thread runs now.
    uint64_t interp_size = 0, interp_tasks_head = 0;
    uint64_t thread_size = 0, thread_running_loop = 0, thread_running_task = 0, thread_tasks_head = 0;
};

constexpr size_t kAsyncioDebugSize = 13 * 8;  // 3.14.0 and later

// Checks every offset against the structure it lies in; the error names the bad field.
Expected<AsyncioDebug> parse_asyncio_debug(std::span<const uint8_t> bytes);

// The section of whichever module holds _asyncio (the executable, libpython or the
// _asyncio extension), else the symbol of a -dbg file. The error says what was looked for.
Expected<AsyncioDebug> find_asyncio_debug(Target& target, Symbolizer& symbols);

// One thread's tasks: its linked list, the loop it runs and the task running on it.
struct ThreadTasks {
    uint64_t thread_state = 0, thread_id = 0;
    uint64_t running_loop = 0, running_task = 0;
};

struct LinkedTasks {
    std::vector<uint64_t> tasks;       // every task of every list, in list order
    std::vector<ThreadTasks> threads;  // threads with a running loop or a task list
    bool truncated = false;            // a list did not lead back to its head (damaged, or cut short)
};

// Every task in the interpreter's thread lists and its list for tasks of exited threads.
LinkedTasks linked_tasks(Memory& mem, const Layout& l, uint64_t interp, const AsyncioDebug& d,
                         size_t max_tasks);

}  // namespace snag::python
