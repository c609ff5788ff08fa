// The x86_64 SSE/AVX register state: decoding the FXSAVE and XSAVE areas that cores (NT_FPREGSET,
// NT_X86_XSTATE) and ptrace (PTRACE_GETREGSET) give, bounded by the bytes actually present.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "target/target.hpp"

namespace snag {

// Offsets in the standard (non-compacted) XSAVE layout the kernel exports.
inline constexpr size_t kFxsaveSize = 512;
inline constexpr size_t kXcr0Offset = 464;        // the kernel stores XCR0 in the FXSAVE's sw bytes
inline constexpr size_t kXstateBvOffset = 512;    // XSAVE header: which components are not in init state
inline constexpr size_t kYmmHiOffset = 576;       // CPUID.(EAX=0DH,ECX=2).EBX on every x86_64 with AVX
inline constexpr size_t kYmmHiSize = 256;
inline constexpr uint64_t kXfeatureSse = 1u << 1, kXfeatureAvx = 1u << 2;

// FXSAVE area (512 bytes): xmm0-15 and mxcsr; no upper halves.
Expected<VectorRegisters> decode_fxsave(std::string_view area);
// XSAVE area: a component whose xstate_bv bit is clear reads as zeros (its init state); the AVX
// halves count only when XCR0 enables AVX and the area holds them.
Expected<VectorRegisters> decode_xsave(std::string_view area);

// Live: the thread's XSAVE area by PTRACE_GETREGSET (the caller traces it and it is stopped).
std::optional<std::string> read_xstate_area(int tid);
// The size of the XSAVE area this CPU writes for the enabled features (CPUID leaf 0xD).
size_t xstate_area_size();

}  // namespace snag
