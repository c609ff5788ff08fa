// Runtime Discovery: where the CPython interpreter lives in a target, which version it is, and
// which structure layout to read it with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "python/layout.hpp"
#include "symbols/symbolizer.hpp"
#include "target/target.hpp"

namespace snag::python {

struct PythonRuntime {
    std::string module_path;      // executable or libpython holding the interpreter
    std::string version;          // "3.11.7", or "3.11" when the micro version is unknown
    std::string found_by;         // "_PyRuntime symbol", "interp_head symbol", "memory scan"...
    uint64_t runtime = 0;         // &_PyRuntime (3.7+), 0 for 3.6
    uint64_t interp_head_at = 0;  // address of the pointer to the newest interpreter
    uint64_t tstate_current_at = 0;  // 3.6–3.11: address of the current thread state pointer
    uint64_t gil_locked_at = 0, gil_last_holder_at = 0;  // 3.6–3.11 global GIL fields
    uint64_t gc_collecting_at = 0;   // 3.6–3.8
    Layout layout;
};

// Finds the interpreter; the error says what was looked for, or which version is unsupported.
struct DiscoveryOptions {
    std::string target_label;  // names the target in errors ("1234", "core.5"); empty = describe it
    // Read struct offsets from DWARF even when the built-in table validates. Indexing the DWARF
    // of a libpython takes about a second, so by default DWARF is the fallback for a table
    // that does not validate (the tables were checked against the DWARF of every pyenv build).
    bool prefer_dwarf = false;
};

Expected<PythonRuntime> find_python_runtime(Target& target, Symbolizer& symbols,
                                           const DiscoveryOptions& options = {});

// True when discovery failed because the target runs no CPython at all, not because snag cannot
// read the one it runs.
bool python_absent(const Error& discovery_error);

// Major.minor from a file name such as libpython3.7m.so.1.0 or python3.11; 0 when none.
int minor_from_file_name(const std::string& path);

}  // namespace snag::python
