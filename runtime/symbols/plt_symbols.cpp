#include "symbols/plt_symbols.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

namespace snag {

namespace {

constexpr uint64_t kStubSize = 16;  // x86-64 .plt and .plt.sec entries; .plt.got's are 8

struct Sections {
    std::map<std::string, GElf_Shdr> by_name;
    std::map<std::string, Elf_Scn*> scn;
};

Sections sections_of(Elf* elf) {
    Sections out;
    size_t names = 0;
    if (elf_getshdrstrndx(elf, &names) != 0) return out;
    for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        const char* name = gelf_getshdr(scn, &shdr) ? elf_strptr(elf, names, shdr.sh_name) : nullptr;
        if (!name) continue;
        out.by_name[name] = shdr;
        out.scn[name] = scn;
    }
    return out;
}

// GOT slot (link-time address) → symbol name, from the relocations that fill slots with a
// symbol's address: .rela.plt's JUMP_SLOTs and .rela.dyn's GLOB_DATs (used by .plt.got stubs).
std::map<uint64_t, std::string> slot_names(Elf* elf, const Sections& s) {
    std::map<uint64_t, std::string> names;
    for (const char* section : {".rela.plt", ".rela.dyn"}) {
        auto scn = s.scn.find(section);
        if (scn == s.scn.end()) continue;
        const GElf_Shdr& hdr = s.by_name.at(section);
        Elf_Scn* dynsym = elf_getscn(elf, hdr.sh_link);
        GElf_Shdr symhdr;
        Elf_Data* relas = elf_getdata(scn->second, nullptr);
        Elf_Data* syms = dynsym ? elf_getdata(dynsym, nullptr) : nullptr;
        if (!relas || !syms || !gelf_getshdr(dynsym, &symhdr) || hdr.sh_entsize == 0) continue;
        for (size_t i = 0; i < hdr.sh_size / hdr.sh_entsize; ++i) {
            GElf_Rela r;
            GElf_Sym sym;
            if (!gelf_getrela(relas, static_cast<int>(i), &r) || GELF_R_SYM(r.r_info) == 0) continue;
            auto type = GELF_R_TYPE(r.r_info);
            if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
            if (!gelf_getsym(syms, static_cast<int>(GELF_R_SYM(r.r_info)), &sym)) continue;
            if (const char* name = elf_strptr(elf, symhdr.sh_link, sym.st_name)) names[r.r_offset] = name;
        }
    }
    return names;
}

// The GOT slot a stub jumps through: its `jmp *disp(%rip)` (ff 25, maybe after endbr64 and bnd).
std::optional<uint64_t> jump_slot(const unsigned char* stub, size_t size, uint64_t address) {
    for (size_t i = 0; i + 6 <= size; ++i) {
        if (stub[i] != 0xff || stub[i + 1] != 0x25) continue;
        int32_t disp;
        std::memcpy(&disp, stub + i + 2, 4);
        return address + i + 6 + static_cast<int64_t>(disp);
    }
    return std::nullopt;
}

void add_stubs(const Sections& s, const char* section, uint64_t entry, const std::map<uint64_t, std::string>& names,
               uint64_t bias, std::vector<PltStub>& out) {
    auto scn = s.scn.find(section);
    if (scn == s.scn.end()) return;
    const GElf_Shdr& hdr = s.by_name.at(section);
    Elf_Data* data = elf_getdata(scn->second, nullptr);
    if (!data || !data->d_buf || data->d_size < hdr.sh_size) return;
    if (hdr.sh_entsize >= 8 && hdr.sh_entsize <= 16) entry = hdr.sh_entsize;
    const auto* bytes = static_cast<const unsigned char*>(data->d_buf);
    for (uint64_t off = 0; off + entry <= hdr.sh_size; off += entry) {
        auto slot = jump_slot(bytes + off, entry, hdr.sh_addr + off);
        auto name = slot ? names.find(*slot) : names.end();
        if (name != names.end()) out.push_back({hdr.sh_addr + off + bias, entry, name->second + "@plt"});
    }
}

}  // namespace

std::vector<PltStub> plt_stubs(const Module& module) {
    std::vector<PltStub> stubs;
    if (module.local_path.empty() || !module.file_matches) return stubs;
    int fd = ::open(module.local_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return stubs;
    elf_version(EV_CURRENT);
    if (Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
        Sections s = sections_of(elf);
        auto names = slot_names(elf, s);
        add_stubs(s, ".plt", kStubSize, names, module.bias, stubs);
        add_stubs(s, ".plt.sec", kStubSize, names, module.bias, stubs);
        add_stubs(s, ".plt.got", 8, names, module.bias, stubs);
        std::sort(stubs.begin(), stubs.end(), [](const PltStub& a, const PltStub& b) { return a.start < b.start; });
        elf_end(elf);
    }
    ::close(fd);
    return stubs;
}

}  // namespace snag
