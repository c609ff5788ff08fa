// scopes_at (one descent of a unit's DIE tree) against libdw's dwarf_getscopes +
// dwarf_getscopes_die, for sampled addresses of every unit of real files: the same chain of DIEs,
// except where libdw gives up on inlined code whose abstract origin lives in another unit (gdb
// shows those inline frames, and so does snag).
#include <doctest/doctest.h>
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "libdw_units.hpp"
#include "symbols/scopes.hpp"

namespace {

std::vector<void*> libdw_chain(Dwarf_Die* cu, Dwarf_Addr pc) {
    std::vector<void*> out;
    Dwarf_Die* scopes = nullptr;
    if (dwarf_getscopes(cu, pc, &scopes) > 0) {
        Dwarf_Die innermost = scopes[0];
        free(scopes);
        scopes = nullptr;
        int count = dwarf_getscopes_die(&innermost, &scopes);
        for (int i = 0; i < count; ++i) out.push_back(scopes[i].addr);
    }
    free(scopes);
    return out;
}

bool has_inline_from_elsewhere(Dwarf_Die* cu, std::vector<Dwarf_Die>& chain) {
    for (auto& die : chain) {
        Dwarf_Attribute attr;
        Dwarf_Die origin;
        if (dwarf_tag(&die) == DW_TAG_inlined_subroutine &&
            dwarf_formref_die(dwarf_attr(&die, DW_AT_abstract_origin, &attr), &origin) && origin.cu != cu->cu)
            return true;
    }
    return false;
}

struct Compared {
    size_t compared = 0, nonempty = 0, beyond_libdw = 0;
};

Compared compare_units(const std::string& path, size_t per_unit) {
    Compared c;
    snag::test::for_each_unit_with_lines(path, [&](Dwarf_Die* cu, Dwarf_Lines* lines, size_t count, Dwarf_Off offset) {
        for (size_t i = 0; i < count; i += count / per_unit + 1) {
            Dwarf_Addr pc = 0;
            dwarf_lineaddr(dwarf_onesrcline(lines, i), &pc);
            auto mine = snag::scopes_at(cu, pc);
            if (!mine) continue;  // deferred to libdw: nothing to compare
            std::vector<void*> got;
            for (auto& die : *mine) got.push_back(die.addr);
            auto theirs = libdw_chain(cu, pc);
            if (theirs.empty() && !got.empty()) {
                CHECK_MESSAGE(has_inline_from_elsewhere(cu, *mine), path << " unit " << offset << " pc " << pc);
                ++c.beyond_libdw;
            } else {
                CHECK_MESSAGE(got == theirs, path << " unit " << offset << " pc " << pc);
            }
            ++c.compared;
            c.nonempty += !got.empty();
        }
    });
    return c;
}

}  // namespace

TEST_CASE("scopes: same chains as libdw for every unit of this test binary") {
    Compared c = compare_units("/proc/self/exe", 3);
    CHECK(c.compared > 300);
    CHECK(c.nonempty > c.compared / 2);
}

TEST_CASE("scopes: same chains as libdw in python3.11's (LTO) and libc's debug files") {
    for (const std::string& path : snag::test::distribution_debug_files()) {
        CAPTURE(path);
        // In python's LTO units most inlined code has its origin in another unit, where
        // dwarf_getscopes finds nothing and snag keeps the chain.
        Compared c = compare_units(path, 3);
        CHECK(c.compared > 200);
        CHECK(c.nonempty > 50);
        if (path.find("python") != std::string::npos) CHECK(c.beyond_libdw > 0);
    }
}
