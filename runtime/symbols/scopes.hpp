// The chain of scopes (DIEs) around a pc, innermost first, in one descent of the unit's DIE tree.
//
// frames_at needs what dwarf_getscopes_die(dwarf_getscopes(cu, pc)[0]) returns. libdw walks
// the unit twice for that, and for a pc in inlined code it also searches the whole unit for the
// inline's abstract origin; where that origin lives in another unit (python3.11's LTO units)
// it finds nothing and gives no scopes at all, so eu-stack shows no inline frames there. gdb
// shows them: this descends once and keeps the concrete chain either way.
#pragma once

#include <elfutils/libdw.h>

#include <optional>
#include <vector>

namespace snag {

// Innermost first, the unit DIE last; empty where no scope of the unit contains pc.
// nullopt when this cannot tell (imported units, DWARF errors): ask libdw.
std::optional<std::vector<Dwarf_Die>> scopes_at(Dwarf_Die* cu, Dwarf_Addr pc);

}  // namespace snag
