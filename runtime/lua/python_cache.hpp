// What a session knows about the target's CPython, read lazily and dropped when the target runs.
#pragma once

#include <memory>
#include <optional>

#include "python/objects.hpp"
#include "python/py_report.hpp"
#include "python/runtime_discovery.hpp"
#include "python/threads.hpp"

namespace snag {

struct PythonCache {
    std::optional<Expected<python::PythonRuntime>> runtime;  // discovery, done once
    std::optional<python::PythonState> state;                // threads and frames, no locals
    std::optional<python::PythonState> state_with_locals;
    std::unique_ptr<python::Memory> memory;
    std::unique_ptr<python::Objects> objects;
};

}  // namespace snag
