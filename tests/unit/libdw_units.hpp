// For tests that check snag's DWARF readers against libdw itself: the units of a real file, and
// the distribution debug files to check them on.
#pragma once

#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "symbols/elf_facts.hpp"

namespace snag::test {

// Calls visit(cu, lines, count, unit_offset) for each unit of PATH that has line rows; false when
// the file does not open.
template <class Visit>
bool for_each_unit_with_lines(const std::string& path, Visit visit) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    Dwarf* dwarf = dwarf_begin(fd, DWARF_C_READ);
    Dwarf_Off offset = 0, next = 0;
    size_t header_size = 0;
    while (dwarf && dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu;
        Dwarf_Lines* lines = nullptr;
        size_t count = 0;
        if (dwarf_offdie(dwarf, offset + header_size, &cu) && dwarf_getsrclines(&cu, &lines, &count) == 0 && count)
            visit(&cu, lines, count, offset);
        offset = next;
    }
    if (dwarf) dwarf_end(dwarf);
    close(fd);
    return true;
}

inline std::string debug_file_of(const char* binary) {
    auto facts = snag::read_elf_facts(binary);
    if (!facts || facts->build_id.size() < 3) return {};
    const std::string& id = facts->build_id;
    return "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
}

// python3.11-dbg's and libc6-dbg's debug files (LTO, DWARF 5, compressed), those installed here.
inline std::vector<std::string> distribution_debug_files() {
    std::vector<std::string> out;
    for (const char* binary : {"/usr/bin/python3.11", "/lib/x86_64-linux-gnu/libc.so.6"}) {
        std::string path = debug_file_of(binary);
        if (!path.empty() && access(path.c_str(), R_OK) == 0) out.push_back(path);
    }
    return out;
}

}  // namespace snag::test
