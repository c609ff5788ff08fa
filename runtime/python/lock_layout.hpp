// Lock layouts: where a threading.Lock / RLock keeps its state. The layout changed within 3.13
// (3.13.1 moved Lock to a PyMutex), so it is read from the running build, never assumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "python/layout.hpp"
#include "python/memory.hpp"
#include "symbols/symbolizer.hpp"

namespace snag::python {

// A lock's state as read from memory; known = false when the layout could not be verified.
struct LockState {
    bool known = false;
    bool locked = false;
    uint64_t owner_thread_id = 0;  // RLock only: the owner's threading ident, 0 = none
    uint64_t count = 0;            // RLock recursion count
    std::string unknown_reason;    // why the state is not shown, when !known
};

// Reads the state of the _thread.lock (rlock = false) or _thread.RLock at obj. The layout comes
// from DWARF when the build has it (layout.lock_from_dwarf), else from the known layouts that
// fit this version and the type's tp_basicsize; one that fits none is not guessed.
LockState read_lock_state(Memory& memory, const Layout& layout, uint64_t obj, bool rlock);

// Whether some known lock layout is for this build (default builds of 3.6–3.14).
bool known_lock_layouts_cover(const Layout& layout);

// Sets layout's lock fields from the DWARF of the interpreter's module (lockobject,
// rlockobject in Modules/_threadmodule.c); false, leaving layout as it was, when DWARF lacks them.
bool apply_dwarf_lock_layout(Symbolizer& symbols, const std::string& module_path, Layout& layout);

}  // namespace snag::python
