// FILE:LINE -> breakpoint addresses, from each module's DWARF line table (libdw stays here).
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>

#include "symbols/module_collection.hpp"
#include "symbols/symbolizer.hpp"

namespace snag {
namespace {

// gdb's rule: "x.c" and "src/x.c" name /build/src/x.c; a whole path must match whole.
bool file_matches(std::string_view path, std::string_view wanted) {
    if (path == wanted) return true;
    if (path.size() <= wanted.size() || !path.ends_with(wanted)) return false;
    return wanted.front() == '/' || path[path.size() - wanted.size() - 1] == '/';
}

bool cu_mentions(Dwarf_Die* cu, std::string_view wanted) {
    Dwarf_Files* files = nullptr;
    size_t count = 0;
    if (dwarf_getsrcfiles(cu, &files, &count) != 0) return false;
    for (size_t i = 0; i < count; ++i)
        if (const char* name = dwarf_filesrc(files, i, nullptr, nullptr); name && file_matches(name, wanted))
            return true;
    return false;
}

struct Row {
    int line = 0;
    Dwarf_Addr address = 0;
};

// The is_stmt rows of the wanted file at or after the wanted line, and every row's address in
// order (to find where a function's prologue ends).
struct CuRows {
    std::vector<Row> matches;
    std::vector<Dwarf_Addr> starts;  // row addresses, sorted
};

CuRows rows_of(Dwarf_Die* cu, std::string_view wanted, int line) {
    CuRows out;
    Dwarf_Lines* lines = nullptr;
    size_t count = 0;
    if (dwarf_getsrclines(cu, &lines, &count) != 0) return out;
    for (size_t i = 0; i < count; ++i) {
        Dwarf_Line* row = dwarf_onesrcline(lines, i);
        Dwarf_Addr address = 0;
        bool end = false, stmt = false;
        int number = 0;
        if (!row || dwarf_lineaddr(row, &address) != 0) continue;
        dwarf_lineendsequence(row, &end);
        if (end) continue;
        out.starts.push_back(address);
        dwarf_linebeginstatement(row, &stmt);
        dwarf_lineno(row, &number);
        if (!stmt || number < line) continue;
        const char* name = dwarf_linesrc(row, nullptr, nullptr);
        if (name && file_matches(name, wanted)) out.matches.push_back({number, address});
    }
    std::sort(out.starts.begin(), out.starts.end());
    return out;
}

// The innermost function or inline instance holding address: {its DIE offset, its entry}.
std::pair<Dwarf_Off, Dwarf_Addr> function_at(Dwarf_Die* cu, Dwarf_Addr address, bool& inlined) {
    Dwarf_Die* scopes = nullptr;
    int n = dwarf_getscopes(cu, address, &scopes);
    std::pair<Dwarf_Off, Dwarf_Addr> out{0, 0};
    for (int i = 0; i < n; ++i) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
        Dwarf_Addr entry = 0;
        if (dwarf_entrypc(&scopes[i], &entry) != 0) dwarf_lowpc(&scopes[i], &entry);
        out = {dwarf_dieoffset(&scopes[i]), entry};
        inlined = tag == DW_TAG_inlined_subroutine;
        break;
    }
    std::free(scopes);
    return out;
}

struct Candidate {
    int line = INT_MAX;
    std::vector<uint64_t> addresses;
};

// Adds one CU's addresses of the best line to best (a smaller line replaces what it holds).
void collect_cu(Dwarf_Die* cu, std::string_view wanted, int line, uint64_t bias, Candidate& best) {
    CuRows rows = rows_of(cu, wanted, line);
    int found = INT_MAX;
    for (const auto& row : rows.matches) found = std::min(found, row.line);
    if (found == INT_MAX || found > best.line) return;
    if (found < best.line) best = {found, {}};
    std::map<Dwarf_Off, Dwarf_Addr> lowest;  // per function / inline instance
    for (const auto& row : rows.matches) {
        if (row.line != found) continue;
        bool inlined = false;
        auto [function, entry] = function_at(cu, row.address, inlined);
        Dwarf_Off key = function ? function : row.address;
        Dwarf_Addr address = row.address;
        if (function && !inlined && address == entry) {
            // The function's opening line: stop after the prologue (the next row), as gdb does.
            auto next = std::upper_bound(rows.starts.begin(), rows.starts.end(), address);
            bool same = false;
            if (next != rows.starts.end() && function_at(cu, *next, same).first == function) address = *next;
        }
        auto it = lowest.find(key);
        if (it == lowest.end() || address < it->second) lowest[key] = address;
    }
    for (const auto& [key, address] : lowest) best.addresses.push_back(address + bias);
}

void collect_module(const Module& module, std::string_view wanted, int line, Candidate& best) {
    if (module.debug_file.empty() || module.path == kVdsoPath) return;
    int fd = ::open(module.debug_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (Dwarf* dwarf = dwarf_begin(fd, DWARF_C_READ)) {
        Dwarf_CU* unit = nullptr;
        Dwarf_Die cu, sub;
        Dwarf_Half version = 0;
        uint8_t type = 0;
        while (dwarf_get_units(dwarf, unit, &unit, &version, &type, &cu, &sub) == 0)
            if ((type == DW_UT_compile || type == DW_UT_partial) && cu_mentions(&cu, wanted))
                collect_cu(&cu, wanted, line, module.bias, best);
        dwarf_end(dwarf);
    }
    ::close(fd);
}

}  // namespace

std::vector<uint64_t> line_addresses(const std::vector<Module>& modules, std::string_view file, int line) {
    if (file.empty() || line <= 0) return {};
    Candidate best;
    for (const auto& module : modules) collect_module(module, file, line, best);
    std::sort(best.addresses.begin(), best.addresses.end());
    best.addresses.erase(std::unique(best.addresses.begin(), best.addresses.end()), best.addresses.end());
    return best.addresses;
}

}  // namespace snag
