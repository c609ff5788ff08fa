// ELF symbol tables of one module: the public spelling of each function, names to addresses.
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

struct Dwfl_Module;  // libdwfl's handle, opaque here

namespace snag {

// "clock_nanosleep@GLIBC_2.2.5" → "clock_nanosleep": .symtab spells symbol versions into names.
std::string_view unversioned(std::string_view name);

struct NamedAddress {
    uint64_t address = 0;
    bool global = false;
};

// Names point into libdwfl's string tables: a table lives no longer than the module's Dwfl.
class SymbolTable {
public:
    explicit SymbolTable(Dwfl_Module* module);

    // Most public alias of the function starting at address ("clone3" over "__clone3" and
    // "__GI___clone3", as gdb prints it); empty when no function symbol starts there.
    std::string_view public_name_at(uint64_t address) const;

    // Every address of a symbol (function or data) by its unversioned name.
    const std::vector<NamedAddress>& named(std::string_view name);

private:
    struct Alias {
        uint64_t address = 0;
        std::string_view name;
        int rank = 0;
    };
    void index_names();

    Dwfl_Module* module_;
    std::vector<Alias> functions_;  // sorted by address, the most public alias of each
    std::unordered_map<std::string_view, std::vector<NamedAddress>> by_name_;  // built on first use
    bool names_indexed_ = false;
};

}  // namespace snag
