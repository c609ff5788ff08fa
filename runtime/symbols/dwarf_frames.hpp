// Inline frames: the chain of inlined calls DWARF records at one address (like eu-stack -i).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbols/line_table.hpp"
#include "symbols/symbolizer.hpp"

struct Dwfl_Module;  // libdwfl's handle, opaque here

namespace snag {

// C++ names demangled; anything else returned as is.
std::string demangle(const char* name);

// Source lines and file tables read ahead for a batch of addresses (line_table.hpp); what is
// not here is asked from libdw.
struct KnownLines {
    std::unordered_map<uint64_t, std::optional<SourceLocation>> at;   // by runtime address
    std::unordered_map<const void*, std::vector<LineFile>> files;  // by CU DIE (Dwarf_Die::addr)
};

// What dwarf_getscopes_die(dwarf_getscopes(cu, pc)[0]) gives, innermost first (empty where
// dwarf_getscopes finds nothing): scopes_at's one descent, libdw's two walks where it cannot tell.
std::vector<Dwarf_Die> concrete_scopes(Dwarf_Die* cudie, Dwarf_Addr pc);

// Innermost first: one Symbol per inlined call at `address`, then `outer` (the ELF symbol's
// frame) with its source line. Without DWARF, just `outer`. `pc` is what offsets refer to.
// The outer name becomes DWARF's (gdb's choice) unless the ELF name was a mangled C++ name.
std::vector<Symbol> frames_at(Dwfl_Module* module, uint64_t address, uint64_t pc, Symbol outer,
                              bool elf_name_mangled, const KnownLines& known);

}  // namespace snag
