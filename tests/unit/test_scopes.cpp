// scopes_at (one descent of a unit's DIE tree) against libdw's dwarf_getscopes +
// dwarf_getscopes_die, for sampled addresses of every unit of real files: the same chain of DIEs,
// or the same nothing.
#include <doctest/doctest.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "symbols/elf_facts.hpp"
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
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {0, 0};
    Dwarf* dwarf = dwarf_begin(fd, DWARF_C_READ);
    size_t compared = 0, nonempty = 0;
    Dwarf_Off offset = 0, next = 0;
    size_t header_size = 0;
    while (dwarf && dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu;
        Dwarf_Lines* lines = nullptr;
        size_t count = 0;
        if (dwarf_offdie(dwarf, offset + header_size, &cu) && dwarf_getsrclines(&cu, &lines, &count) == 0 && count) {
            for (size_t i = 0; i < count; i += count / per_unit + 1) {
                Dwarf_Addr pc = 0;
                dwarf_lineaddr(dwarf_onesrcline(lines, i), &pc);
                auto mine = snag::scopes_at(&cu, pc);
                if (!mine) continue;  // deferred to libdw: nothing to compare
                std::vector<void*> got;
                for (auto& die : *mine) got.push_back(die.addr);
                CHECK_MESSAGE(got == libdw_chain(&cu, pc), path << " unit " << offset << " pc " << pc);
                ++compared;
                nonempty += !got.empty();
            }
        }
        offset = next;
    }
    if (dwarf) dwarf_end(dwarf);
    close(fd);
    return {compared, nonempty};
}

std::string debug_file_of(const char* binary) {
    auto facts = snag::read_elf_facts(binary);
    if (!facts || facts->build_id.size() < 3) return {};
    const std::string& id = facts->build_id;
    return "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
}

}  // namespace

TEST_CASE("scopes: same chains as libdw for every unit of this test binary") {
    auto [compared, nonempty] = compare_units("/proc/self/exe", 3);
    CHECK(compared > 300);
    CHECK(nonempty > compared / 2);
}

TEST_CASE("scopes: same chains as libdw in python3.11's (LTO) and libc's debug files") {
    for (const char* binary : {"/usr/bin/python3.11", "/lib/x86_64-linux-gnu/libc.so.6"}) {
        std::string path = debug_file_of(binary);
        if (path.empty() || access(path.c_str(), R_OK) != 0) continue;
        CAPTURE(path);
        // In python's LTO units most inlined code has its origin in another unit, where
        // dwarf_getscopes finds nothing: many answers are rightly empty.
        auto [compared, nonempty] = compare_units(path, 3);
        CHECK(compared > 200);
        CHECK(nonempty > 50);
    }
}
