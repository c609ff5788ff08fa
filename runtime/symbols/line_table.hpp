// Source lines of many addresses of one compilation unit in one pass over its line program.
//
// libdw's dwarf_getsrclines decodes and sorts every row of a unit before the first lookup:
// about 1 ms for each of python3.11's large LTO units, most of `snag bt`'s time after the debug
// info is inflated. This reader walks the program once for a batch of addresses and keeps
// nothing but the answers. It follows libdw 0.188's decoder (same checks, same file names) and
// dwfl_module_getsrc's choice of row, and gives up (nullopt) on anything it does not handle, so
// the caller asks libdw and the answer stays the same.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "symbols/symbolizer.hpp"

namespace snag {

// A file table entry; the path is composed only when asked (units list hundreds of headers).
struct LineFile {
    const char* dir = nullptr;  // nullptr: the name stands alone
    const char* name = "???";
    std::string path() const { return *name == '/' || !dir ? name : std::string(dir) + "/" + name; }
};

struct UnitLines {
    std::vector<LineFile> files;  // the unit's file table, as dwarf_getsrcfiles names them
    std::vector<std::optional<SourceLocation>> at;  // parallel to the addresses asked
};

// addresses are DWARF addresses (module-relative: runtime address - bias) inside the unit.
std::optional<UnitLines> read_unit_lines(Dwarf_Die* cu, const std::vector<uint64_t>& addresses);

}  // namespace snag
