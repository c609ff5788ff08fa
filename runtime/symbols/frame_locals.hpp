// Frame locals: the local variables of a native frame, read through DWARF and printed as gdb's
// `bt full` / `info locals` print them ("ts = {tv_sec = 3600, tv_nsec = 0}").
//
// Locations handled: DW_OP_fbreg (frame base DW_OP_call_frame_cfa or a register), DW_OP_breg*,
// DW_OP_reg* (any register in the innermost frame, callee-saved ones further out), DW_OP_addr,
// constants with DW_OP_stack_value, DW_OP_implicit_value, location lists, and DW_OP_entry_value
// of a register: the value the caller passed, from its DW_TAG_call_site (below). Anything else,
// or a register an outer frame does not recover, prints "<optimized out>", as gdb does.
//
// Entry values follow gdb (dwarf2/loc.c dwarf_expr_reg_to_entry_parameter): the caller's call
// site is the one whose return address is the caller's pc, its target (DW_AT_call_origin, or
// DW_AT_call_target evaluated in the caller) must be the callee's entry, the callee must not be
// able to reach itself through tail calls, and the DW_TAG_call_site_parameter for the register
// (or stack slot) gives DW_AT_call_value, evaluated in the caller's frame (recursively when it
// holds an entry value itself).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "symbols/module.hpp"
#include "target/target.hpp"

struct Dwarf;

namespace snag {

struct LocalVariable {
    std::string name;
    std::string value;  // gdb's text, or "<optimized out>"
    // Arguments only: the value at the function's entry as the caller passed it (gdb's `x@entry`),
    // when the location at the entry is a register or stack slot the call site describes.
    std::optional<std::string> entry_value;
    std::string pointee;  // a pointer's target type as declared ("PyObject"), for pretty-printers
    std::string type;     // the declared type as type_spelling gives it ("struct timespec"); "" unknown
    std::optional<uint64_t> address;  // where it lives, when in memory (p &local, p s.field)
};

// A value as a frame line shows it (bt, frame, REPL): gdb's default `print frame-arguments
// scalars` prints structs, unions and arrays as "...".
std::string frame_line_value(const std::string& value);

// Where a frame is: its pc, registers (innermost: all of them; outer: rip, rsp, rbp, rbx,
// r12-r15 as unwinding recovered them) and CFA.
struct FrameState {
    uint64_t pc = 0;
    bool call_site = false;  // a return address: look up pc - 1
    bool innermost = false;
    uint64_t cfa = 0;
    Registers regs{};
};

// A frame above the one asked about as the stack walk gave it (tail-call frames included, as
// gdb shows them): where entry values are looked up.
struct CallerFrame {
    const Module* module = nullptr;
    FrameState state;
};

class TailCalls;

class FrameLocals {
public:
    // symbolic(addr) → "main+4" for pointers gdb annotates with <...>; nullopt when none.
    using Symbolic = std::function<std::optional<std::string>(uint64_t)>;
    // dwarf(module): the module's DWARF already loaded elsewhere (the symbolizer's); when it gives
    // nullptr, or is not set, the debug file is opened here.
    using DwarfSource = std::function<Dwarf*(const Module&)>;
    // The call sites of every module (the symbolizer's); without them no entry value is known.
    using CallSites = std::function<TailCalls*()>;
    FrameLocals(Target& target, Symbolic symbolic, DwarfSource dwarf = nullptr, CallSites sites = nullptr);
    ~FrameLocals();
    FrameLocals(const FrameLocals&) = delete;
    FrameLocals& operator=(const FrameLocals&) = delete;

    enum class Kind { Locals, Arguments };
    // Locals (innermost lexical block first, as gdb lists them) or arguments of the logical frame
    // at frame.pc in module: inline_depth 0 is the innermost inlined call at that pc. nullopt
    // when the module has no DWARF for pc (gdb: "No symbol table info available.").
    // callers: the frames above, nearest first, for entry values (none known without them).
    std::optional<std::vector<LocalVariable>> locals(const Module& module, const FrameState& frame,
                                                     size_t inline_depth, Kind kind = Kind::Locals,
                                                     std::span<const CallerFrame> callers = {});

    // Which argument a call site parameter binds: a DWARF register, or the stack slot at
    // CFA + offset (the caller's rsp + offset at the call).
    struct Slot {
        bool is_register = true;
        int64_t number = 0;
    };
    // The value of slot when the function entered at function_entry was called from callers[0]
    // (the rest are its callers); nullopt when the call site does not say.
    std::optional<uint64_t> value_at_entry(uint64_t function_entry, Slot slot, std::span<const CallerFrame> callers,
                                           int depth = 0);

private:
    Dwarf* dwarf_of(const Module& module);
    std::optional<uint64_t> caller_frame_base(const CallerFrame& caller);

    Target& target_;
    Symbolic symbolic_;
    DwarfSource dwarf_;
    CallSites sites_;
    std::map<std::string, std::pair<int, Dwarf*>> open_;  // debug file → fd, handle (nullptr: none)
};

}  // namespace snag
