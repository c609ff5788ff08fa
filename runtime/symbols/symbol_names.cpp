#include "symbols/symbol_names.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>

namespace snag {

namespace {

bool named_code_or_data(const GElf_Sym& sym) {
    int type = GELF_ST_TYPE(sym.st_info);
    bool wanted = type == STT_FUNC || type == STT_OBJECT || type == STT_GNU_IFUNC || type == STT_TLS;
    return wanted && sym.st_shndx != SHN_UNDEF;
}

// Appends the defined function/data names of path's .symtab and .dynsym.
void read_names(const std::string& path, std::vector<std::string>& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    for (Elf_Scn* scn = elf ? elf_nextscn(elf, nullptr) : nullptr; scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM)) continue;
        if (shdr.sh_entsize == 0) continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        size_t count = shdr.sh_size / shdr.sh_entsize;
        for (size_t i = 0; data && i < count; ++i) {
            GElf_Sym sym;
            if (!gelf_getsym(data, static_cast<int>(i), &sym) || !named_code_or_data(sym)) continue;
            const char* name = elf_strptr(elf, shdr.sh_link, sym.st_name);
            if (!name || !*name) continue;
            std::string_view n(name);
            out.emplace_back(n.substr(0, n.find('@')));
        }
    }
    if (elf) elf_end(elf);
    ::close(fd);
}

}  // namespace

SymbolNames::SymbolNames(const std::vector<Module>& modules) {
    for (const auto& m : modules) {
        // A file that differs from what the target mapped would offer names it does not have.
        if (!m.local_path.empty() && m.file_matches) read_names(m.local_path, names_);
        if (!m.debug_file.empty() && m.file_matches) read_names(m.debug_file, names_);
    }
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

std::vector<std::string> SymbolNames::with_prefix(std::string_view prefix, size_t limit) const {
    auto first = std::lower_bound(names_.begin(), names_.end(), prefix);
    auto last = first;
    while (last != names_.end() && std::string_view(*last).starts_with(prefix)) ++last;
    size_t count = static_cast<size_t>(last - first);
    if (limit < 2 || count <= limit) return {first, last};
    // Cut, but keep the range's last name: the first and last bound its common prefix.
    std::vector<std::string> out(first, first + static_cast<std::ptrdiff_t>(limit - 1));
    out.push_back(*(last - 1));
    return out;
}

}  // namespace snag
