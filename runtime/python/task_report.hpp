// asyncio task reports: the await tree (py-bt --tasks, drawn like `python -m asyncio pstree`),
// the ps-like table of `snag tasks`, and both as JSON.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "python/tasks.hpp"
#include "python/threads.hpp"

namespace snag::python {

// Each loop's tasks as trees: a task's coroutine frames (outermost first), then the tasks it
// awaits indented under them; tasks awaiting each other are marked as a cycle.
void print_task_tree(std::ostream& out, const AsyncState& tasks, const PythonState& threads);
void print_task_table(std::ostream& out, const AsyncState& tasks, const PythonState& threads);
nlohmann::json tasks_json(const AsyncState& tasks, const PythonState& threads);

}  // namespace snag::python
