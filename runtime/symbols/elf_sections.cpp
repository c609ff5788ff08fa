#include "symbols/elf_sections.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

namespace snag {

std::optional<std::string> section_name_at(const Module& module, uint64_t address) {
    if (module.local_path.empty() || !module.file_matches || address < module.bias) return std::nullopt;
    uint64_t link = address - module.bias;
    int fd = ::open(module.local_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    size_t names = 0;
    std::optional<std::string> found;
    if (elf && elf_getshdrstrndx(elf, &names) == 0) {
        for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn && !found; scn = elf_nextscn(elf, scn)) {
            GElf_Shdr shdr;
            if (!gelf_getshdr(scn, &shdr) || !(shdr.sh_flags & SHF_ALLOC)) continue;
            if (link < shdr.sh_addr || link - shdr.sh_addr >= shdr.sh_size) continue;
            if (const char* name = elf_strptr(elf, names, shdr.sh_name)) found = name;
        }
    }
    if (elf) elf_end(elf);
    ::close(fd);
    return found;
}

}  // namespace snag
