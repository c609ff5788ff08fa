// Module Collection: groups the target's file mappings into ELF modules and finds their debug info.
#pragma once

#include <string>
#include <vector>

#include "symbols/module.hpp"
#include "target/target.hpp"

namespace snag {

inline constexpr const char* kVdsoPath = "[vdso]";

// Every ELF module the target maps, sorted by start address. The vDSO is included (read from
// the target's memory); files missing on this machine are included with file_matches=false
// when their ELF header is still readable in the target.
std::vector<Module> collect_modules(Target& target);

// Bytes of a module image as mapped in the target (used for the vDSO, which has no file).
std::string read_module_image(Target& target, const Module& module);

}  // namespace snag
