#include "symbols/elf_sections.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <functional>

namespace snag {
namespace {

// Calls visit(name, header) for each allocated section of the module's file until it returns
// true; false when the file is missing, differs from the target's, or is no ELF file.
bool find_alloc_section(const Module& module,
                        const std::function<bool(const char* name, const GElf_Shdr&)>& visit) {
    if (module.local_path.empty() || !module.file_matches) return false;
    int fd = ::open(module.local_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    size_t names = 0;
    bool found = false;
    if (elf && elf_getshdrstrndx(elf, &names) == 0) {
        for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn && !found; scn = elf_nextscn(elf, scn)) {
            GElf_Shdr shdr;
            if (!gelf_getshdr(scn, &shdr) || !(shdr.sh_flags & SHF_ALLOC)) continue;
            const char* name = elf_strptr(elf, names, shdr.sh_name);
            found = name && visit(name, shdr);
        }
    }
    if (elf) elf_end(elf);
    ::close(fd);
    return found;
}

}  // namespace

std::optional<std::string> section_name_at(const Module& module, uint64_t address) {
    if (address < module.bias) return std::nullopt;
    uint64_t link = address - module.bias;
    std::optional<std::string> found;
    find_alloc_section(module, [&](const char* name, const GElf_Shdr& shdr) {
        if (link < shdr.sh_addr || link - shdr.sh_addr >= shdr.sh_size) return false;
        found = name;
        return true;
    });
    return found;
}

std::optional<SectionRange> section_named(const Module& module, std::string_view wanted) {
    std::optional<SectionRange> found;
    find_alloc_section(module, [&](const char* name, const GElf_Shdr& shdr) {
        if (wanted != name) return false;
        found = SectionRange{shdr.sh_addr + module.bias, shdr.sh_size};
        return true;
    });
    return found;
}

}  // namespace snag
