// Link map: the dynamic linker's list of loaded objects, in symbol lookup (interposition) order.
#pragma once

#include <cstdint>
#include <vector>

#include "target/target.hpp"

namespace snag {

// Load biases (l_addr) of the objects on the target's r_debug link map, in order: the
// executable first, then libraries as ld.so searches them. Empty for static executables,
// before ld.so has run, or when the memory is unreadable.
std::vector<uint64_t> link_map_biases(Target& target);

}  // namespace snag
