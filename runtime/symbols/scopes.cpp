#include "symbols/scopes.hpp"

#include <dwarf.h>

#include <algorithm>

namespace snag {

namespace {

// The DIEs libdw's scope walk descends into (libdw_visit_scopes.c, may_have_scopes).
bool may_have_scopes(Dwarf_Die* die) {
    switch (dwarf_tag(die)) {
        case DW_TAG_compile_unit: case DW_TAG_module: case DW_TAG_lexical_block: case DW_TAG_with_stmt:
        case DW_TAG_catch_block: case DW_TAG_try_block: case DW_TAG_entry_point:
        case DW_TAG_inlined_subroutine: case DW_TAG_subprogram: case DW_TAG_namespace:
        case DW_TAG_class_type: case DW_TAG_structure_type:
            return true;
        default:
            return false;
    }
}

enum class Found { No, Yes, Unknown };

// dwarf_haspc as dwarf_getscopes uses it: missing ranges are "no", other errors are errors.
Found has_pc(Dwarf_Die* die, Dwarf_Addr pc) {
    int result = dwarf_haspc(die, pc);
    if (result > 0) return Found::Yes;
    if (result == 0) return Found::No;
    int error = dwarf_errno();
    // libdw's error numbers are not public: any error but "none" makes us defer to libdw.
    return error == 0 ? Found::No : Found::Unknown;
}

// The first child containing pc, in DIE order; Unknown on imported units or errors.
Found child_with_pc(Dwarf_Die* parent, Dwarf_Addr pc, Dwarf_Die& out) {
    int rc = dwarf_child(parent, &out);
    if (rc != 0) return rc < 0 ? Found::Unknown : Found::No;
    do {
        if (dwarf_tag(&out) == DW_TAG_imported_unit) return Found::Unknown;
        Found f = has_pc(&out, pc);
        if (f != Found::No) return f;
    } while ((rc = dwarf_siblingof(&out, &out)) == 0);
    return rc < 0 ? Found::Unknown : Found::No;
}

}  // namespace

std::optional<std::vector<Dwarf_Die>> scopes_at(Dwarf_Die* cu, Dwarf_Addr pc) {
    std::vector<Dwarf_Die> path{*cu};
    for (;;) {
        Dwarf_Die& current = path.back();
        if (!may_have_scopes(&current) || dwarf_haschildren(&current) <= 0) break;
        Dwarf_Die child;
        Found f = child_with_pc(&current, pc, child);
        if (f == Found::Unknown) return std::nullopt;
        if (f == Found::No) break;
        path.push_back(child);
    }
    if (path.size() == 1) return std::vector<Dwarf_Die>{};  // nothing in the unit contains pc
    std::reverse(path.begin(), path.end());
    return path;
}

}  // namespace snag
