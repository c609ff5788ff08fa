// Displaced instruction emulation: the first instructions of functions, run on the registers.
#include <doctest/doctest.h>

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

TEST_CASE("displaced: anything else is left to a single-step") {
    auto r = sample_regs();
    const uint8_t sub[] = {0x48, 0x83, 0xec, 0x10};  // sub $16,%rsp changes the flags
    CHECK(!emulate_instruction(sub, sizeof sub, r));
    const uint8_t call[] = {0xe8, 0, 0, 0, 0};
    CHECK(!emulate_instruction(call, sizeof call, r));
    const uint8_t truncated[] = {0xf3, 0x0f};
    CHECK(!emulate_instruction(truncated, sizeof truncated, r));
    CHECK(!emulate_instruction(nullptr, 0, r));
}
