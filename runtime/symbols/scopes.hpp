// The chain of scopes (DIEs) around a pc, innermost first, in one descent of the unit's DIE tree.
//
// frames_at needs what dwarf_getscopes_die(dwarf_getscopes(cu, pc)[0]) returns. libdw walks
// the unit twice for that, and for a pc in inlined code it also searches the whole unit for the
// inline's abstract origin (in python3.11's LTO units that origin lives in another unit, so the
// search visits every DIE and finds nothing). This descends once and answers the origin
// question by following offsets. Same chain, or the same "nothing" (libdw's count <= 0).
#pragma once

#include <elfutils/libdw.h>

#include <optional>
#include <vector>

namespace snag {

// Innermost first, the unit DIE last; empty where dwarf_getscopes would return 0 or -1.
// nullopt when this cannot tell (imported units, DWARF errors): ask libdw.
std::optional<std::vector<Dwarf_Die>> scopes_at(Dwarf_Die* cu, Dwarf_Addr pc);

}  // namespace snag
