// gdb's text for a value of a DWARF type: 42, 65 'A', 0x0, 0x4005d0 "text", {a = 1, b = 0x0},
// {0 <repeats 16 times>}, 0x401136 <main>. Used by frame_locals for `bt full`.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace snag {

struct ValuePrinter {
    // Reads exactly n bytes of the target at addr; false when it cannot.
    std::function<bool(uint64_t addr, void* out, size_t n)> read;
    // "main+4" for an address gdb annotates as <main+4>; nullopt when no symbol covers it.
    std::function<std::optional<std::string>(uint64_t)> symbolic;

    // bytes holds the whole value (its size is type_size(type)).
    std::string text(Dwarf_Die* type, const std::string& bytes, int depth = 0) const;
    // An array of element with these dimensions (outermost first), bytes holding all of it.
    std::string elements(Dwarf_Die* element, const std::vector<uint64_t>& dims, const std::string& bytes) const;
};

// Bytes a value of type occupies; nullopt for void, functions and unknown sizes.
std::optional<uint64_t> type_size(Dwarf_Die* type);

// The DIE's DW_AT_type, following abstract origins; false when it has none (void).
bool type_of(Dwarf_Die* die, Dwarf_Die* type);

// A type as the command language spells it: "int", "struct timespec *", "long int [2][3]";
// "" for what it cannot spell (function pointers, anonymous structs, arrays of pointers to arrays).
std::string type_spelling(Dwarf_Die* type);

}  // namespace snag
