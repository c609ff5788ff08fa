// Symbol names: every function and data symbol name of the target's modules, sorted for prefix
// search (REPL tab completion of `break pthread_mu<TAB>`). Read from the ELF .symtab and .dynsym
// of each module's file and debug file; the Symbolizer answers by address, this by name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "symbols/module.hpp"

namespace snag {

class SymbolNames {
public:
    // Reads the symbol tables now (a few ms per large module); unreadable files are skipped.
    explicit SymbolNames(const std::vector<Module>& modules);

    // Names starting with prefix, sorted, without duplicates; at most limit of them (0: all).
    // A cut list ends with the last matching name, so its common prefix is the whole range's.
    std::vector<std::string> with_prefix(std::string_view prefix, size_t limit = 0) const;
    size_t size() const { return names_.size(); }

private:
    std::vector<std::string> names_;  // sorted, unique; versions ("@GLIBC_2.2.5") stripped
};

}  // namespace snag
