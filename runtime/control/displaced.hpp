// Displaced instructions: a thread stopped on an int3 must run the original instruction under it.
// The common first instructions of a function are emulated on the registers instead, so the int3
// stays in place (no single-step, no window where other threads could run past the breakpoint).
#pragma once

#include <sys/user.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace snag::control {

struct Emulated {
    user_regs_struct regs;            // after the instruction
    std::optional<uint64_t> pushed;   // a push: this value goes to memory at regs.rsp
};

// code: the original bytes at regs.rip (int3s replaced by what they hide). nullopt: not an
// instruction emulated here (endbr64, nop, push REG, mov %rsp,%rbp, sub $imm,%rsp are).
std::optional<Emulated> emulate_instruction(const uint8_t* code, size_t len, const user_regs_struct& regs);

}  // namespace snag::control
