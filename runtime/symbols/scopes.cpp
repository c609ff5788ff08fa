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

// Whether libdw's walk of the unit reaches target: it lies in this unit and every DIE between
// the unit and it is one the walk descends into. Follows DIE offsets, no full walk.
Found reachable(Dwarf_Die* cu, Dwarf_Die* target) {
    if (target->cu != cu->cu) return Found::No;
    Dwarf_Off wanted = dwarf_dieoffset(target);
    Dwarf_Die current = *cu;
    for (int depth = 0; depth < 64; ++depth) {
        Dwarf_Die child;
        int rc = dwarf_child(&current, &child);
        if (rc != 0) return rc < 0 ? Found::Unknown : Found::No;
        for (;;) {
            if (dwarf_tag(&child) == DW_TAG_imported_unit) return Found::Unknown;
            if (child.addr == target->addr) return Found::Yes;
            Dwarf_Die next;
            rc = dwarf_siblingof(&child, &next);
            if (rc < 0) return Found::Unknown;
            bool inside = dwarf_dieoffset(&child) < wanted && (rc > 0 || wanted < dwarf_dieoffset(&next));
            if (inside) break;
            if (rc > 0) return Found::No;
            child = next;
        }
        if (!may_have_scopes(&child)) return Found::No;
        current = child;
    }
    return Found::Unknown;
}

}  // namespace

std::optional<std::vector<Dwarf_Die>> scopes_at(Dwarf_Die* cu, Dwarf_Addr pc) {
    std::vector<Dwarf_Die> path{*cu};
    int inlined = -1;
    for (;;) {
        Dwarf_Die& current = path.back();
        if (!may_have_scopes(&current) || dwarf_haschildren(&current) <= 0) break;
        Dwarf_Die child;
        Found f = child_with_pc(&current, pc, child);
        if (f == Found::Unknown) return std::nullopt;
        if (f == Found::No) break;
        path.push_back(child);
        if (dwarf_tag(&child) == DW_TAG_inlined_subroutine) inlined = int(path.size()) - 1;
    }
    if (path.size() == 1) return std::vector<Dwarf_Die>{};  // nothing in the unit contains pc
    if (inlined >= 0) {
        // dwarf_getscopes fails unless the inline's abstract origin is found in this unit.
        Dwarf_Attribute attr;
        Dwarf_Die origin;
        if (!dwarf_formref_die(dwarf_attr(&path[inlined], DW_AT_abstract_origin, &attr), &origin))
            return std::vector<Dwarf_Die>{};
        Found f = reachable(cu, &origin);
        if (f == Found::Unknown) return std::nullopt;
        if (f == Found::No) return std::vector<Dwarf_Die>{};
    }
    std::reverse(path.begin(), path.end());
    return path;
}

}  // namespace snag
