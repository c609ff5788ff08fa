// Native stacks: libunwind's remote API over a Target (one path for live and core).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symbols/symbolizer.hpp"
#include "target/target.hpp"

namespace snag {

struct NativeFrame {
    uint64_t pc = 0;
    uint64_t sp = 0;
    uint64_t cfa = 0;
    bool is_signal_frame = false;
    // The frame below (the callee) had no CFI, so this one was found from the rbp chain (a guess).
    bool found_by_frame_pointer = false;
    // No return address of its own: a function that jumped to its callee (DWARF call sites tell
    // which, as in gdb). pc is just past that jump; regs and sp are the caller's.
    bool tail_call = false;
    // Registers recovered for this frame (rip, rsp, rbp, rbx, r12-r15 are reliable; others may be 0).
    Registers regs{};
};

struct NativeStack {
    int tid = 0;
    std::vector<NativeFrame> frames;  // innermost first
    std::string error;                // why the walk stopped early, empty when it ended normally
    bool truncated = false;           // hit the depth bound or a loop
    bool depth_limited = false;       // stopped by the caller's bound, not by what the stack holds
};

class Unwinder {
public:
    virtual ~Unwinder() = default;
    virtual NativeStack unwind(const Thread& thread, size_t max_depth = 256) = 0;
};

// Unwind tables are cached per module for the Unwinder's lifetime.
std::unique_ptr<Unwinder> make_unwinder(Target& target, Symbolizer& symbols);

}  // namespace snag
