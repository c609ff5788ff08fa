// scopes_at (one descent of a unit's DIE tree) against libdw's dwarf_getscopes +
// dwarf_getscopes_die, for sampled addresses of every unit of real files: the same chain of DIEs,
// or the same nothing.
#include <doctest/doctest.h>
#include <elfutils/libdw.h>
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

// Returns {addresses compared, of which inside an inline or a function}.
std::pair<size_t, size_t> compare_units(const std::string& path, size_t per_unit) {
    size_t compared = 0, nonempty = 0;
    snag::test::for_each_unit_with_lines(path, [&](Dwarf_Die* cu, Dwarf_Lines* lines, size_t count, Dwarf_Off offset) {
        for (size_t i = 0; i < count; i += count / per_unit + 1) {
            Dwarf_Addr pc = 0;
            dwarf_lineaddr(dwarf_onesrcline(lines, i), &pc);
            auto mine = snag::scopes_at(cu, pc);
            if (!mine) continue;  // deferred to libdw: nothing to compare
            std::vector<void*> got;
            for (auto& die : *mine) got.push_back(die.addr);
            CHECK_MESSAGE(got == libdw_chain(cu, pc), path << " unit " << offset << " pc " << pc);
            ++compared;
            nonempty += !got.empty();
        }
    });
    return {compared, nonempty};
}

}  // namespace

TEST_CASE("scopes: same chains as libdw for every unit of this test binary") {
    auto [compared, nonempty] = compare_units("/proc/self/exe", 3);
    CHECK(compared > 300);
    CHECK(nonempty > compared / 2);
}

TEST_CASE("scopes: same chains as libdw in python3.11's (LTO) and libc's debug files") {
    for (const std::string& path : snag::test::distribution_debug_files()) {
        CAPTURE(path);
        // In python's LTO units most inlined code has its origin in another unit, where
        // dwarf_getscopes finds nothing: many answers are rightly empty.
        auto [compared, nonempty] = compare_units(path, 3);
        CHECK(compared > 200);
        CHECK(nonempty > 50);
    }
}
