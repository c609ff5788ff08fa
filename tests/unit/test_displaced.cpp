// Displaced instruction emulation: the first instructions of functions, run on the registers.
#include <doctest/doctest.h>

#include <utility>
#include <vector>

#include "control/displaced.hpp"

using snag::control::emulate_instruction;

namespace {

user_regs_struct sample_regs() {
    user_regs_struct r{};
    r.rip = 0x401000;
    r.rsp = 0x7ffc1000;
    r.rbp = 0x7ffc2000;
    r.r12 = 0x1212;
    r.eflags = 0x246;
    return r;
}

}  // namespace

TEST_CASE("displaced: push %rbp stores rbp below the stack pointer and moves one byte on") {
    const uint8_t code[] = {0x55, 0x48, 0x89, 0xe5};
    auto r = sample_regs();
    auto e = emulate_instruction(code, sizeof code, r);
    REQUIRE(e);
    CHECK(e->regs.rip == r.rip + 1);
    CHECK(e->regs.rsp == r.rsp - 8);
    REQUIRE(e->pushed);
    CHECK(*e->pushed == r.rbp);
    CHECK(e->regs.eflags == r.eflags);
}

TEST_CASE("displaced: push %r12 (REX.B), push %rsp stores the old rsp") {
    const uint8_t r12[] = {0x41, 0x54};
    auto r = sample_regs();
    auto e = emulate_instruction(r12, sizeof r12, r);
    REQUIRE(e);
    CHECK(e->regs.rip == r.rip + 2);
    CHECK(*e->pushed == 0x1212);
    const uint8_t rsp[] = {0x54};
    e = emulate_instruction(rsp, sizeof rsp, r);
    REQUIRE(e);
    CHECK(*e->pushed == r.rsp);
    CHECK(e->regs.rsp == r.rsp - 8);
}

TEST_CASE("displaced: endbr64, nop and mov %rsp,%rbp touch no memory") {
    auto r = sample_regs();
    const uint8_t endbr[] = {0xf3, 0x0f, 0x1e, 0xfa};
    auto e = emulate_instruction(endbr, sizeof endbr, r);
    REQUIRE(e);
    CHECK(e->regs.rip == r.rip + 4);
    CHECK(!e->pushed);
    const uint8_t mov[] = {0x48, 0x89, 0xe5};
    e = emulate_instruction(mov, sizeof mov, r);
    REQUIRE(e);
    CHECK(e->regs.rbp == r.rsp);
    CHECK(e->regs.rip == r.rip + 3);
}

// What the CPU itself leaves in rsp and the arithmetic flags after `sub $imm,%rsp` (run on a
// scratch register: the same subtraction and flags).
std::pair<uint64_t, uint64_t> hardware_sub(uint64_t value, int64_t imm, uint64_t flags_in) {
    uint64_t out = value, flags = 0;
    // lea steps over the red zone (it leaves the flags alone): push must not clobber it.
    asm volatile("lea -128(%%rsp), %%rsp\n\tpush %[fin]\n\tpopfq\n\tsub %[imm], %[out]\n\tpushfq\n\t"
                 "pop %[flags]\n\tlea 128(%%rsp), %%rsp"
                 : [out] "+r"(out), [flags] "=r"(flags)
                 : [imm] "r"(imm), [fin] "r"(flags_in)
                 : "cc");
    return {out, flags};
}

TEST_CASE("displaced: sub $imm,%rsp gives the CPU's result and flags") {
    constexpr uint64_t arithmetic = 0x8d5;  // CF PF AF ZF SF OF
    const uint64_t values[] = {0x7ffc1000, 0x10, 0x8, 0, 0x8000000000000008ull, 0x7fffffffffffffffull, 0xff};
    const int64_t imms[] = {0x10, 0x78, -8, 0x7f, -128, 0x12345, -0x12345};
    for (uint64_t value : values)
        for (int64_t imm : imms) {
            auto r = sample_regs();
            r.rsp = value;
            std::vector<uint8_t> code;
            if (imm >= -128 && imm <= 127) {
                code = {0x48, 0x83, 0xec, static_cast<uint8_t>(imm)};
            } else {
                uint32_t u = static_cast<uint32_t>(imm);
                code = {0x48, 0x81, 0xec, static_cast<uint8_t>(u), static_cast<uint8_t>(u >> 8),
                        static_cast<uint8_t>(u >> 16), static_cast<uint8_t>(u >> 24)};
            }
            auto e = emulate_instruction(code.data(), code.size(), r);
            REQUIRE(e);
            auto [rsp, flags] = hardware_sub(value, imm, r.eflags);
            CHECK(e->regs.rsp == rsp);
            CHECK((e->regs.eflags & arithmetic) == (flags & arithmetic));
            CHECK((e->regs.eflags & ~arithmetic) == (r.eflags & ~arithmetic));
            CHECK(e->regs.rip == r.rip + code.size());
            CHECK(!e->pushed);
        }
}

TEST_CASE("displaced: anything else is left to a single-step") {
    auto r = sample_regs();
    const uint8_t sub_rax[] = {0x48, 0x83, 0xe8, 0x10};  // sub $16,%rax
    CHECK(!emulate_instruction(sub_rax, sizeof sub_rax, r));
    const uint8_t short_sub[] = {0x48, 0x83, 0xec};
    CHECK(!emulate_instruction(short_sub, sizeof short_sub, r));
    const uint8_t call[] = {0xe8, 0, 0, 0, 0};
    CHECK(!emulate_instruction(call, sizeof call, r));
    const uint8_t truncated[] = {0xf3, 0x0f};
    CHECK(!emulate_instruction(truncated, sizeof truncated, r));
    CHECK(!emulate_instruction(nullptr, 0, r));
}
