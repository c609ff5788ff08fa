#include "target/vector_registers.hpp"

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include <cstring>

namespace snag {

namespace {

constexpr size_t kMxcsrOffset = 24;
constexpr size_t kXmmOffset = 160;

uint64_t u64_at(std::string_view area, size_t offset) {
    uint64_t v = 0;
    std::memcpy(&v, area.data() + offset, sizeof v);
    return v;
}

}  // namespace

Expected<VectorRegisters> decode_fxsave(std::string_view area) {
    if (area.size() < kFxsaveSize)
        return fail("FP register note has " + std::to_string(area.size()) + " bytes, expected " +
                    std::to_string(kFxsaveSize));
    VectorRegisters v;
    std::memcpy(&v.mxcsr, area.data() + kMxcsrOffset, sizeof v.mxcsr);
    for (size_t i = 0; i < 16; ++i) std::memcpy(v.ymm[i], area.data() + kXmmOffset + 16 * i, 16);
    return v;
}

Expected<VectorRegisters> decode_xsave(std::string_view area) {
    auto v = decode_fxsave(area);
    if (!v) return v;
    // Without the header every component is taken as saved (what the FXSAVE part says).
    if (area.size() < kXstateBvOffset + 8) return v;
    uint64_t xcr0 = u64_at(area, kXcr0Offset);
    uint64_t bv = u64_at(area, kXstateBvOffset);
    if (!(bv & kXfeatureSse))
        for (auto& r : v->ymm) std::memset(r, 0, 16);
    if (!(xcr0 & kXfeatureAvx)) return v;
    bool saved = bv & kXfeatureAvx;
    if (saved && area.size() < kYmmHiOffset + kYmmHiSize) return v;  // cut: the halves are unknown
    v->avx = true;
    for (size_t i = 0; i < 16; ++i) {
        if (saved) std::memcpy(v->ymm[i] + 16, area.data() + kYmmHiOffset + 16 * i, 16);
        else std::memset(v->ymm[i] + 16, 0, 16);
    }
    return v;
}

std::optional<std::string> read_xstate_area(int tid) {
    // The kernel copies at most this much (AMX tile data makes areas of ~11 KiB).
    std::string area(16384, '\0');
    iovec iov{area.data(), area.size()};
    if (::ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) != 0) return std::nullopt;
    area.resize(iov.iov_len);
    return area;
}

size_t xstate_area_size() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) || ebx < kFxsaveSize) return 0;
    return ebx;
}

}  // namespace snag
