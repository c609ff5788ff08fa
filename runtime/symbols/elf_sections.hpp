// ELF sections by address: gdb's `info symbol` says "main in section .text of /bin/app".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "symbols/module.hpp"

namespace snag {

// Name of the allocated section of module's file that holds the runtime address; nullopt when
// the file is missing, differs from the target's, or no section covers the address.
std::optional<std::string> section_name_at(const Module& module, uint64_t address);

// Where an allocated section (".AsyncioDebug") of module's file lies in the target: section
// headers survive `strip`, so this finds data that only a stripped-away symbol names.
struct SectionRange {
    uint64_t address = 0;  // runtime address (load bias applied)
    uint64_t size = 0;
};
std::optional<SectionRange> section_named(const Module& module, std::string_view name);

}  // namespace snag
