#include "control/displaced.hpp"

namespace snag::control {
namespace {

// The register numbered as in the opcode (0 rax .. 7 rdi, 8 r8 .. 15 r15).
unsigned long long& gpr(user_regs_struct& r, int n) {
    unsigned long long* table[16] = {&r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi, &r.rdi,
                                     &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
    return *table[n & 15];
}

std::optional<Emulated> advance(Emulated out, size_t length) {
    out.regs.rip += length;
    return out;
}

std::optional<Emulated> push(Emulated out, int reg, size_t length) {
    uint64_t value = gpr(out.regs, reg);  // push %rsp stores the value before the push
    out.regs.rsp -= 8;
    out.pushed = value;
    return advance(out, length);
}

}  // namespace

std::optional<Emulated> emulate_instruction(const uint8_t* code, size_t len, const user_regs_struct& regs) {
    Emulated out{regs, std::nullopt};
    auto starts = [&](std::initializer_list<uint8_t> bytes) {
        if (bytes.size() > len) return false;
        size_t i = 0;
        for (uint8_t b : bytes)
            if (code[i++] != b) return false;
        return true;
    };
    if (starts({0xf3, 0x0f, 0x1e, 0xfa})) return advance(out, 4);  // endbr64: a nop here
    if (starts({0x90})) return advance(out, 1);                    // nop
    if (len >= 1 && code[0] >= 0x50 && code[0] <= 0x57) return push(out, code[0] - 0x50, 1);
    if (len >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57) return push(out, 8 + code[1] - 0x50, 2);
    if (starts({0x48, 0x89, 0xe5}) || starts({0x48, 0x8b, 0xec})) {  // mov %rsp,%rbp (both encodings)
        out.regs.rbp = out.regs.rsp;
        return advance(out, 3);
    }
    return std::nullopt;
}

}  // namespace snag::control
