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

// sub $imm,%rsp: the arithmetic flags as the CPU sets them for a 64-bit subtraction.
std::optional<Emulated> sub_rsp(Emulated out, int64_t imm, size_t length) {
    uint64_t a = out.regs.rsp, b = static_cast<uint64_t>(imm), r = a - b;
    constexpr uint64_t CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;
    uint64_t flags = out.regs.eflags & ~(CF | PF | AF | ZF | SF | OF);
    if (a < b) flags |= CF;
    if (__builtin_parity(static_cast<unsigned>(r & 0xff)) == 0) flags |= PF;
    if ((a ^ b ^ r) & 0x10) flags |= AF;
    if (r == 0) flags |= ZF;
    if (r >> 63) flags |= SF;
    if (((a ^ b) & (a ^ r)) >> 63) flags |= OF;
    out.regs.rsp = r;
    out.regs.eflags = flags;
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
    if (starts({0x48, 0x83, 0xec}) && len >= 4) return sub_rsp(out, static_cast<int8_t>(code[3]), 4);
    if (starts({0x48, 0x81, 0xec}) && len >= 7) {
        int32_t imm = static_cast<int32_t>(code[3] | code[4] << 8 | code[5] << 16 | static_cast<uint32_t>(code[6]) << 24);
        return sub_rsp(out, imm, 7);
    }
    return std::nullopt;
}

}  // namespace snag::control
