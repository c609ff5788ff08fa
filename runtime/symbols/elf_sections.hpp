// ELF sections by address: gdb's `info symbol` says "main in section .text of /bin/app".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "symbols/module.hpp"

namespace snag {

// Name of the allocated section of module's file that holds the runtime address; nullopt when
// the file is missing, differs from the target's, or no section covers the address.
std::optional<std::string> section_name_at(const Module& module, uint64_t address);

}  // namespace snag
