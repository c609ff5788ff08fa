// XSAVE areas as cores and ptrace give them (hostile sizes included), and gdb's printing of the
// vector registers built from them.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "command/vector_value.hpp"
#include "target/vector_registers.hpp"

using namespace snag;
using namespace snag::command;

namespace {

// An XSAVE area: xmm i = bytes i, upper half i = bytes 0x80 + i, XCR0 and xstate_bv as given.
std::string xsave_area(uint64_t xcr0, uint64_t bv, size_t size = 1024) {
    std::string area(size, '\0');
    uint32_t mxcsr = 0x1f80;
    std::memcpy(area.data() + 24, &mxcsr, 4);
    for (size_t i = 0; i < 16; ++i) {
        std::memset(area.data() + 160 + 16 * i, static_cast<int>(i + 1), 16);
        if (kYmmHiOffset + 16 * (i + 1) <= size) std::memset(area.data() + kYmmHiOffset + 16 * i, static_cast<int>(0x80 + i), 16);
    }
    std::memcpy(area.data() + kXcr0Offset, &xcr0, 8);
    if (size >= 520) std::memcpy(area.data() + kXstateBvOffset, &bv, 8);
    return area;
}

std::string printed(std::string bytes, char format = 0) {
    auto v = vector_register_value(std::move(bytes));
    REQUIRE(v);
    auto text = format_wide(*v, format);
    REQUIRE(text);
    return *text;
}

}  // namespace

TEST_CASE("vector registers: the XSAVE area's components and its size") {
    auto all = decode_xsave(xsave_area(7, 7));
    REQUIRE(all);
    CHECK(all->avx);
    CHECK(all->mxcsr == 0x1f80);
    CHECK(all->ymm[3][0] == 4);
    CHECK(all->ymm[3][16] == 0x83);

    // AVX in its initial state (after vzeroupper): the upper halves are zeros, not the stale bytes.
    auto init = decode_xsave(xsave_area(7, 3));
    REQUIRE(init);
    CHECK(init->avx);
    CHECK(init->ymm[3][0] == 4);
    CHECK(init->ymm[3][31] == 0);

    // SSE in its initial state: xmm are zeros too.
    auto no_sse = decode_xsave(xsave_area(7, 4));
    REQUIRE(no_sse);
    CHECK(no_sse->ymm[5][0] == 0);
    CHECK(no_sse->ymm[5][16] == 0x85);

    // A CPU without AVX (XCR0 bit 2 clear): xmm only.
    auto sse_only = decode_xsave(xsave_area(3, 3));
    REQUIRE(sse_only);
    CHECK_FALSE(sse_only->avx);

    // A note cut inside the AVX component: never read past it, the halves are unknown.
    auto cut = decode_xsave(xsave_area(7, 7, 700));
    REQUIRE(cut);
    CHECK_FALSE(cut->avx);
    CHECK(cut->ymm[1][0] == 2);

    // Too short for the FXSAVE part: an error, not a read past the note.
    CHECK_FALSE(decode_xsave(std::string(100, '\x55')));
    CHECK_FALSE(decode_fxsave(std::string(511, '\0')));
    // FXSAVE only (NT_FPREGSET): xmm without upper halves.
    auto fx = decode_fxsave(xsave_area(7, 7, 512));
    REQUIRE(fx);
    CHECK_FALSE(fx->avx);
    CHECK(fx->ymm[15][15] == 16);
}

TEST_CASE("vector registers: gdb's union, lanes, repeats and float texts") {
    std::string bytes(32, '\0');
    int32_t ints[8] = {1, 2, 3, 4, 5, 6, 7, -8};
    std::memcpy(bytes.data(), ints, sizeof ints);
    std::string text = printed(bytes);
    CHECK(text.starts_with("{v16_bfloat16 = {9.184e-41, 0, 1.837e-40, 0, "));
    CHECK(text.find("v8_int32 = {1, 2, 3, 4, 5, 6, 7, -8}") != std::string::npos);
    CHECK(text.find("v4_int64 = {8589934593, 17179869187, 25769803781, -34359738361}") != std::string::npos);
    CHECK(text.ends_with("v2_int128 = {316912650112397582603894390785, -633825299984987492206614937595}}"));

    // Runs of more than 10 equal lanes fold; 10 do not.
    std::string zeros(32, '\0');
    CHECK(printed(zeros).find("v32_int8 = {0 <repeats 32 times>}") != std::string::npos);
    CHECK(printed(zeros).find("v8_int32 = {0, 0, 0, 0, 0, 0, 0, 0}") != std::string::npos);
    std::string ten(32, '\x01');
    std::memset(ten.data() + 10, 2, 22);
    CHECK(printed(ten).find("v32_int8 = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2 <repeats 22 times>}") != std::string::npos);

    // /x: every lane's bits, floats included.
    float f[4] = {1.5f, -2.25f, 0.1f, 3.0f};
    std::string xmm(16, '\0');
    std::memcpy(xmm.data(), f, sizeof f);
    std::string hex = printed(xmm, 'x');
    CHECK(hex.find("v4_float = {0x3fc00000, 0xc0100000, 0x3dcccccd, 0x40400000}") != std::string::npos);
    CHECK(hex.ends_with("uint128 = 0x404000003dcccccdc01000003fc00000}"));
    CHECK(printed(xmm).find("v4_float = {1.5, -2.25, 0.100000001, 3}") != std::string::npos);
    CHECK(printed(xmm).find("v8_half = {0, 1.9375, 0, -2.0312, -19.203, 1.4492, 0, 2.125}") != std::string::npos);
    CHECK_FALSE(format_wide(*vector_register_value(xmm), 'o'));

    // Members and lanes.
    auto ymm = vector_register_value(bytes);
    REQUIRE(ymm);
    auto lanes = vector_member(*ymm, "v8_int32");
    REQUIRE(lanes);
    auto last = vector_element(*lanes, 7);
    REQUIRE(last);
    CHECK(last->as_signed() == -8);
    CHECK_FALSE(vector_element(*lanes, 8));
    CHECK_FALSE(vector_member(*ymm, "v4_float"));

    CType d{CType::Kind::Float, "double", 8, false, nullptr};
    CHECK(float_text(d, 0x7ff8000000000000ull) == "nan(0x8000000000000)");
    CHECK(float_text(d, 0xfff0000000000000ull) == "-inf");
    CHECK(float_text(d, 0x3fd5555555555555ull) == "0.33333333333333331");
    CType fl{CType::Kind::Float, "float", 4, false, nullptr};
    CHECK(float_text(fl, 0x7fc00000u) == "nan(0x400000)");
    CHECK(float_text(fl, 0x501502f9u) == "1e+10");

    CHECK(vector_register_slot("ymm15")->first == 32);
    CHECK_FALSE(vector_register_slot("ymm16"));
    CHECK_FALSE(vector_register_slot("xmm01"));
    CHECK(vector_register_slot("mxcsr")->first == 4);
}
