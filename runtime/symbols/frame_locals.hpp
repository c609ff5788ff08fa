// Frame locals: the local variables of a native frame, read through DWARF and printed as gdb's
// `bt full` / `info locals` print them ("ts = {tv_sec = 3600, tv_nsec = 0}").
//
// Locations handled: DW_OP_fbreg (frame base DW_OP_call_frame_cfa or a register), DW_OP_breg*,
// DW_OP_reg* (any register in the innermost frame, callee-saved ones further out), DW_OP_addr,
// constants with DW_OP_stack_value, DW_OP_implicit_value, location lists. Anything else, or a
// register an outer frame does not recover, prints "<optimized out>", as gdb does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "symbols/module.hpp"
#include "target/target.hpp"

struct Dwarf;

namespace snag {

struct LocalVariable {
    std::string name;
    std::string value;  // gdb's text, or "<optimized out>"
};

// Where a frame is: its pc, registers (innermost: all of them; outer: rip, rsp, rbp, rbx,
// r12-r15 as unwinding recovered them) and CFA.
struct FrameState {
    uint64_t pc = 0;
    bool call_site = false;  // a return address: look up pc - 1
    bool innermost = false;
    uint64_t cfa = 0;
    Registers regs{};
};

class FrameLocals {
public:
    // symbolic(addr) → "main+4" for pointers gdb annotates with <...>; nullopt when none.
    using Symbolic = std::function<std::optional<std::string>(uint64_t)>;
    // dwarf(module): the module's DWARF already loaded elsewhere (the symbolizer's); when it gives
    // nullptr, or is not set, the debug file is opened here.
    using DwarfSource = std::function<Dwarf*(const Module&)>;
    FrameLocals(Target& target, Symbolic symbolic, DwarfSource dwarf = nullptr);
    ~FrameLocals();
    FrameLocals(const FrameLocals&) = delete;
    FrameLocals& operator=(const FrameLocals&) = delete;

    enum class Kind { Locals, Arguments };
    // Locals (innermost lexical block first, as gdb lists them) or arguments of the logical frame
    // at frame.pc in module: inline_depth 0 is the innermost inlined call at that pc. nullopt
    // when the module has no DWARF for pc (gdb: "No symbol table info available.").
    std::optional<std::vector<LocalVariable>> locals(const Module& module, const FrameState& frame,
                                                     size_t inline_depth, Kind kind = Kind::Locals);

private:
    Dwarf* dwarf_of(const Module& module);

    Target& target_;
    Symbolic symbolic_;
    DwarfSource dwarf_;
    std::map<std::string, std::pair<int, Dwarf*>> open_;  // debug file → fd, handle (nullptr: none)
};

}  // namespace snag
