// Decoders for the kernel's core notes (x86_64 layouts) and for snag's own paratext note.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "target/target.hpp"

namespace snag {

// snag's paratext note: name "SNAG", this type, JSON descriptor (see docs/dump.md).
inline constexpr const char* kSnagNoteName = "SNAG";
inline constexpr uint32_t kSnagParatextType = 0x534e4147;  // "SNAG" read as a big-endian word

Expected<Thread> decode_prstatus(std::string_view desc);
Expected<void> decode_prpsinfo(std::string_view desc, ProcessInfo& process);
Expected<SignalInfo> decode_siginfo(std::string_view desc, int* sender_uid = nullptr);
std::vector<AuxvEntry> decode_auxv(std::string_view desc);

// Applies the paratext's thread names/states and full command line; false when it is not valid JSON.
bool apply_paratext(std::string_view json, ProcessInfo& process, std::vector<Thread>& threads);

}  // namespace snag
