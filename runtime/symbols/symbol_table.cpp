#include "symbols/symbol_table.hpp"

#include <elfutils/libdwfl.h>

#include <algorithm>

namespace snag {

std::string_view unversioned(std::string_view name) {
    if (auto at = name.find('@'); at != std::string_view::npos && at > 0) name = name.substr(0, at);
    return name;
}

namespace {

// Fewer leading underscores read better, then global over local.
int public_rank(std::string_view name, bool global) {
    size_t underscores = name.find_first_not_of('_');
    if (underscores == std::string_view::npos) underscores = name.size();
    return static_cast<int>(underscores) * 2 + (global ? 0 : 1);
}

// Calls f(name, address, sym) for each defined symbol worth naming.
template <typename F>
void for_each_symbol(Dwfl_Module* module, F&& f) {
    int count = module ? dwfl_module_getsymtab(module) : 0;
    for (int i = 1; i < count; ++i) {
        GElf_Sym sym;
        GElf_Addr address = 0;
        GElf_Word shndx = 0;
        const char* name = dwfl_module_getsym_info(module, i, &sym, &address, &shndx, nullptr, nullptr);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !*name || shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE || type == STT_TLS)
            continue;
        f(unversioned(name), uint64_t{address}, sym);
    }
}

}  // namespace

SymbolTable::SymbolTable(Dwfl_Module* module) : module_(module) {
    for_each_symbol(module, [&](std::string_view name, uint64_t address, const GElf_Sym& sym) {
        int type = GELF_ST_TYPE(sym.st_info);
        if (type != STT_FUNC && type != STT_GNU_IFUNC) return;
        functions_.push_back({address, name, public_rank(name, GELF_ST_BIND(sym.st_info) != STB_LOCAL)});
    });
    // Stable: of equally public aliases the first in the table wins.
    std::stable_sort(functions_.begin(), functions_.end(), [](const Alias& a, const Alias& b) {
        return a.address != b.address ? a.address < b.address : a.rank < b.rank;
    });
    functions_.erase(std::unique(functions_.begin(), functions_.end(),
                                 [](const Alias& a, const Alias& b) { return a.address == b.address; }),
                     functions_.end());
}

std::string_view SymbolTable::public_name_at(uint64_t address) const {
    auto it = std::lower_bound(functions_.begin(), functions_.end(), address,
                               [](const Alias& a, uint64_t value) { return a.address < value; });
    return it != functions_.end() && it->address == address ? it->name : std::string_view();
}

const std::vector<NamedAddress>& SymbolTable::named(std::string_view name) {
    static const std::vector<NamedAddress> none;
    if (!names_indexed_) index_names();
    auto it = by_name_.find(name);
    return it == by_name_.end() ? none : it->second;
}

void SymbolTable::index_names() {
    names_indexed_ = true;
    for_each_symbol(module_, [&](std::string_view name, uint64_t address, const GElf_Sym& sym) {
        bool global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
        auto& entries = by_name_[name];
        auto same = std::find_if(entries.begin(), entries.end(),
                                 [&](const NamedAddress& e) { return e.address == address; });
        if (same == entries.end()) entries.push_back({address, global});
        else same->global = same->global || global;
    });
}

}  // namespace snag
