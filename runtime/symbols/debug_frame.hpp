// .debug_frame: DWARF's own call frame information, for code that .eh_frame does not describe
// (compiled with -fno-asynchronous-unwind-tables -g, hand-written assembly with .cfi in
// .debug_frame only). libunwind 1.6 reads .eh_frame only when unwinding another process;
// elfutils' CFI interpreter gives the rules at a pc, evaluated here against a frame's registers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "target/target.hpp"

struct Dwfl_Module;  // libdwfl's handle, opaque here

namespace snag {

// Reads one 8-byte word of target memory.
using ReadWord = std::function<bool(uint64_t address, uint64_t* value)>;

// The caller's rip, rsp (the CFA) and callee-saved registers (rbx, rbp, r12-r15) of the frame
// running at lookup_pc (pc - 1 for a return address) with regs; the rest are left 0. rip is 0
// when the CFI marks the return address undefined (the outermost frame). nullopt when the
// module's .debug_frame has no entry for lookup_pc or a rule cannot be evaluated.
std::optional<Registers> debug_frame_caller(Dwfl_Module* module, uint64_t lookup_pc, const Registers& regs,
                                            const ReadWord& read);

}  // namespace snag
