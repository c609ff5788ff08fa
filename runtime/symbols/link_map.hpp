// Link map: the dynamic linker's list of loaded objects, in symbol lookup (interposition) order.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "target/target.hpp"

namespace snag {

// Load biases (l_addr) of the objects on the target's r_debug link map, in order: the
// executable first, then libraries as ld.so searches them. Empty for static executables,
// before ld.so has run, or when the memory is unreadable.
std::vector<uint64_t> link_map_biases(Target& target);

// The dynamic linker's rendezvous (struct r_debug): r_brk is the function ld.so calls before
// and after it changes the link map (gdb's shlib event breakpoint); consistent is r_state ==
// RT_CONSISTENT (a load or unload has finished). nullopt before ld.so ran or when static.
struct LinkMapRendezvous {
    uint64_t r_brk = 0;
    bool consistent = false;
};
std::optional<LinkMapRendezvous> link_map_rendezvous(Target& target);

}  // namespace snag
