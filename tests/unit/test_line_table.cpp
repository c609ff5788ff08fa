// The one-pass line reader (symbols/line_table) against libdw itself: for sampled addresses of
// every unit of real files, the same file:line as dwfl_module_getsrc would pick, or none.
#include <doctest/doctest.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "libdw_units.hpp"
#include "symbols/line_table.hpp"

namespace {

// dwfl_module_getsrc's choice over libdw's sorted rows: the last row at or below the address,
// unless it ends a sequence.
std::optional<snag::SourceLocation> libdw_line(Dwarf_Lines* lines, size_t count, uint64_t address) {
    if (count == 0) return std::nullopt;
    size_t l = 0, u = count - 1;
    while (l < u) {
        size_t idx = u - (u - l) / 2;
        Dwarf_Addr a = 0;
        dwarf_lineaddr(dwarf_onesrcline(lines, idx), &a);
        if (address < a) u = idx - 1;
        else l = idx;
    }
    Dwarf_Line* line = dwarf_onesrcline(lines, l);
    Dwarf_Addr a = 0;
    bool end = false;
    dwarf_lineaddr(line, &a);
    dwarf_lineendsequence(line, &end);
    if (end || a > address) return std::nullopt;
    int lineno = 0;
    dwarf_lineno(line, &lineno);
    const char* file = dwarf_linesrc(line, nullptr, nullptr);
    if (!file) return std::nullopt;
    return snag::SourceLocation{file, lineno};
}

// Compares every unit of a file; returns how many addresses were checked.
size_t compare_units(const std::string& path) {
    size_t checked = 0;
    snag::test::for_each_unit_with_lines(path, [&](Dwarf_Die* cu, Dwarf_Lines* lines, size_t count, Dwarf_Off offset) {
        std::vector<uint64_t> addresses;
        size_t step = count / 16 + 1;
        for (size_t i = 0; i < count; i += step) {
            Dwarf_Addr a = 0;
            dwarf_lineaddr(dwarf_onesrcline(lines, i), &a);
            for (uint64_t probe : {a - 1, a, a + 1, a + 7}) addresses.push_back(probe);
        }
        auto mine = snag::read_unit_lines(cu, addresses);
        REQUIRE_MESSAGE(mine, path << " unit at " << offset);
        Dwarf_Files* files = nullptr;
        size_t nfiles = 0;
        REQUIRE(dwarf_getsrcfiles(cu, &files, &nfiles) == 0);
        CHECK(mine->files.size() == nfiles);
        for (size_t i = 0; i < nfiles && i < mine->files.size(); ++i)
            CHECK(mine->files[i].path() == dwarf_filesrc(files, i, nullptr, nullptr));
        for (size_t i = 0; i < addresses.size(); ++i) {
            auto expected = libdw_line(lines, count, addresses[i]);
            CHECK_MESSAGE(expected.has_value() == mine->at[i].has_value(), path << " " << addresses[i]);
            if (expected && mine->at[i]) {
                CHECK(expected->file == mine->at[i]->file);
                CHECK(expected->line == mine->at[i]->line);
            }
            ++checked;
        }
    });
    return checked;
}

}  // namespace

TEST_CASE("line reader: same lines as libdw for every unit of this test binary") {
    CHECK(compare_units("/proc/self/exe") > 100);
}

TEST_CASE("line reader: same lines as libdw in distribution debug files (LTO, DWARF 5, compressed)") {
    // python3.11-dbg and libc6-dbg as the tests install them; skipped where absent.
    for (const std::string& path : snag::test::distribution_debug_files()) {
        CAPTURE(path);
        CHECK(compare_units(path) > 1000);
    }
}
