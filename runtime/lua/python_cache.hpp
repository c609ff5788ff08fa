// What a session knows about the target's CPython, read lazily and dropped when the target runs.
#pragma once

#include <memory>
#include <optional>

#include "python/objects.hpp"
#include "python/py_report.hpp"
#include "python/runtime_discovery.hpp"
#include "python/tasks.hpp"
#include "python/threads.hpp"

namespace snag {

struct PythonCache {
    std::optional<Expected<python::PythonRuntime>> runtime;  // discovery, done once
    std::optional<python::PythonState> state;                // threads and frames, no locals
    std::optional<python::PythonState> state_with_locals;
    std::optional<python::AsyncState> tasks;                 // asyncio tasks (py:tasks())
    std::unique_ptr<python::Memory> memory;
    std::unique_ptr<python::Objects> objects;
};

class Session;
// Discovery, done once per stop (lua_python.cpp); its failure is remembered too.
Expected<PythonCache*> python_cache(Session& s);
// The thread states without locals, read once per stop.
const python::PythonState& python_state(Session& s, PythonCache& c, bool locals);

}  // namespace snag
