#include "symbols/elf_facts.hpp"

#include <elf.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

namespace snag {

std::string to_hex(const void* bytes, size_t len) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    auto* p = static_cast<const unsigned char*>(bytes);
    for (size_t i = 0; i < len; ++i) {
        out.push_back(digits[p[i] >> 4]);
        out.push_back(digits[p[i] & 15]);
    }
    return out;
}

bool is_elf_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    unsigned char magic[SELFMAG];
    bool ok = ::pread(fd, magic, SELFMAG, 0) == SELFMAG && memcmp(magic, ELFMAG, SELFMAG) == 0;
    ::close(fd);
    return ok;
}

namespace {

struct ElfHandle {
    int fd = -1;
    Elf* elf = nullptr;
    ~ElfHandle() {
        if (elf) elf_end(elf);
        if (fd >= 0) ::close(fd);
    }
};

void read_load_range(Elf* elf, ElfFacts& facts) {
    size_t count = 0;
    if (elf_getphdrnum(elf, &count) != 0) return;
    bool first = true;
    for (size_t i = 0; i < count; ++i) {
        GElf_Phdr mem;
        GElf_Phdr* ph = gelf_getphdr(elf, static_cast<int>(i), &mem);
        if (!ph || ph->p_type != PT_LOAD) continue;
        if (first) facts.first_load_vaddr = ph->p_vaddr & -(ph->p_align ? ph->p_align : 1);
        first = false;
        facts.image_end = std::max(facts.image_end, ph->p_vaddr + ph->p_memsz);
    }
}

void read_sections(Elf* elf, ElfFacts& facts) {
    size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0) return;
    for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr mem;
        GElf_Shdr* sh = gelf_getshdr(scn, &mem);
        if (!sh) continue;
        const char* name = elf_strptr(elf, shstrndx, sh->sh_name);
        if (!name) continue;
        // NOBITS .debug_info is what strip --only-keep-debug leaves in the stripped half.
        if ((!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")) && sh->sh_type != SHT_NOBITS)
            facts.has_debug_info = true;
    }
    GElf_Word crc = 0;
    if (const char* link = dwelf_elf_gnu_debuglink(elf, &crc)) facts.debuglink = link;
}

}  // namespace

std::optional<ElfFacts> read_elf_facts(const std::string& path) {
    elf_version(EV_CURRENT);
    ElfHandle h;
    h.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (h.fd < 0) return std::nullopt;
    h.elf = elf_begin(h.fd, ELF_C_READ_MMAP, nullptr);
    if (!h.elf || elf_kind(h.elf) != ELF_K_ELF) return std::nullopt;
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(h.elf, &ehdr)) return std::nullopt;
    ElfFacts facts;
    facts.is_exec = ehdr.e_type == ET_EXEC;
    read_load_range(h.elf, facts);
    const void* id = nullptr;
    ssize_t len = dwelf_elf_gnu_build_id(h.elf, &id);
    if (len > 0) facts.build_id = to_hex(id, static_cast<size_t>(len));
    read_sections(h.elf, facts);
    return facts;
}

namespace {

// Walks the notes of one PT_NOTE segment in target memory looking for NT_GNU_BUILD_ID.
std::string build_id_in_notes(Target& target, uint64_t addr, uint64_t size) {
    if (size == 0 || size > 64 * 1024) return {};
    std::string buf(size, '\0');
    if (!target.read_exact(addr, buf.data(), size)) return {};
    size_t pos = 0;
    while (pos + sizeof(Elf64_Nhdr) <= size) {
        Elf64_Nhdr nh;
        memcpy(&nh, buf.data() + pos, sizeof nh);
        size_t name_at = pos + sizeof nh;
        size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
        size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
        if (next > size) break;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(buf.data() + name_at, "GNU", 4))
            return to_hex(buf.data() + desc_at, nh.n_descsz);
        pos = next;
    }
    return {};
}

}  // namespace

std::optional<ElfFacts> read_elf_facts(Target& target, uint64_t start) {
    auto ehdr = target.read_value<Elf64_Ehdr>(start);
    if (!ehdr || memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_ident[EI_CLASS] != ELFCLASS64)
        return std::nullopt;
    if (ehdr->e_phentsize != sizeof(Elf64_Phdr) || ehdr->e_phnum == 0 || ehdr->e_phnum > 256)
        return std::nullopt;
    std::vector<Elf64_Phdr> phdrs(ehdr->e_phnum);
    if (!target.read_exact(start + ehdr->e_phoff, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr)))
        return std::nullopt;
    ElfFacts facts;
    facts.is_exec = ehdr->e_type == ET_EXEC;
    bool first = true;
    for (const auto& ph : phdrs) {
        if (ph.p_type != PT_LOAD) continue;
        if (first) facts.first_load_vaddr = ph.p_vaddr & -(ph.p_align ? ph.p_align : 1);
        first = false;
        facts.image_end = std::max(facts.image_end, ph.p_vaddr + ph.p_memsz);
    }
    uint64_t bias = facts.is_exec ? 0 : start - facts.first_load_vaddr;
    for (const auto& ph : phdrs) {
        if (ph.p_type != PT_NOTE) continue;
        facts.build_id = build_id_in_notes(target, bias + ph.p_vaddr, ph.p_filesz);
        if (!facts.build_id.empty()) break;
    }
    return facts;
}

}  // namespace snag
