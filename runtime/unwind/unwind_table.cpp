#include "unwind/unwind_table.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>

namespace snag {
namespace {

constexpr uint8_t kPeOmit = 0xff;
constexpr uint8_t kPeDatarelSdata4 = 0x3b;  // the only search-table encoding libunwind accepts

// Reads bytes at an ELF virtual address (before bias), from the file or from target memory.
using VaddrReader = std::function<bool(uint64_t vaddr, void* out, size_t len)>;

size_t encoded_size(uint8_t encoding) {
    switch (encoding & 0x0f) {
        case 0x00: return 8;                // absptr
        case 0x02: case 0x0a: return 2;     // udata2, sdata2
        case 0x03: case 0x0b: return 4;     // udata4, sdata4
        case 0x04: case 0x0c: return 8;     // udata8, sdata8
        default: return 0;                  // uleb128 and friends: not used in .eh_frame_hdr
    }
}

uint64_t decode_value(const uint8_t* p, uint8_t encoding) {
    switch (encoding & 0x0f) {
        case 0x02: { uint16_t v; std::memcpy(&v, p, 2); return v; }
        case 0x0a: { int16_t v; std::memcpy(&v, p, 2); return uint64_t(int64_t(v)); }
        case 0x03: { uint32_t v; std::memcpy(&v, p, 4); return v; }
        case 0x0b: { int32_t v; std::memcpy(&v, p, 4); return uint64_t(int64_t(v)); }
        default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    }
}

// [offset, offset + len) lies inside size bytes; no sum that a damaged header can wrap.
bool fits(uint64_t offset, uint64_t len, uint64_t size) { return len <= size && offset <= size - len; }

bool valid_header(const Elf64_Ehdr& eh) {
    return std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
           eh.e_machine == EM_X86_64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 &&
           eh.e_phnum < 512;
}

// Fills the executable range and the search-table location from the program headers.
void locate_table(UnwindTable& table, const std::vector<Elf64_Phdr>& phdrs, uint64_t bias,
                  const VaddrReader& read) {
    const Elf64_Phdr* eh_frame = nullptr;
    for (const auto& ph : phdrs) {
        if (ph.p_type == PT_GNU_EH_FRAME) eh_frame = &ph;
        if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
        uint64_t lo = ph.p_vaddr + bias, hi = lo + ph.p_memsz;
        if (table.text_high == 0 || lo < table.text_low) table.text_low = lo;
        if (hi > table.text_high) table.text_high = hi;
    }
    if (!eh_frame) {
        table.problem = "no .eh_frame_hdr";
        return;
    }
    uint8_t hdr[4 + 8 + 8];
    if (!read(eh_frame->p_vaddr, hdr, 4)) {
        table.problem = ".eh_frame_hdr is unreadable";
        return;
    }
    size_t ptr_size = hdr[1] == kPeOmit ? 0 : encoded_size(hdr[1]);
    size_t count_size = hdr[2] == kPeOmit ? 0 : encoded_size(hdr[2]);
    if (hdr[0] != 1 || hdr[3] != kPeDatarelSdata4 || count_size == 0 ||
        (hdr[1] != kPeOmit && ptr_size == 0) ||
        !read(eh_frame->p_vaddr, hdr, 4 + ptr_size + count_size)) {
        table.problem = ".eh_frame_hdr has no binary search table";
        return;
    }
    uint64_t fde_count = decode_value(hdr + 4 + ptr_size, hdr[2]);
    table.segbase = eh_frame->p_vaddr + bias;
    table.table_data = table.segbase + 4 + ptr_size + count_size;
    table.table_bytes = fde_count * 8;
    table.has_table = fde_count > 0 && table.text_high > table.text_low;
    if (!table.has_table) table.problem = ".eh_frame_hdr is empty";
}

}  // namespace

UnwindTable::~UnwindTable() {
    if (image) munmap(const_cast<uint8_t*>(image), image_size);
}

std::unique_ptr<UnwindTable> load_unwind_table_from_file(const std::string& path, uint64_t bias,
                                                         uint64_t low, uint64_t high) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st{};
    void* map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size >= off_t(sizeof(Elf64_Ehdr)))
        map = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return nullptr;

    auto table = std::make_unique<UnwindTable>();
    table->image = static_cast<const uint8_t*>(map);
    table->image_size = size_t(st.st_size);
    table->low = low;
    table->high = high;

    Elf64_Ehdr eh;
    std::memcpy(&eh, table->image, sizeof eh);
    if (!valid_header(eh) || !fits(eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Elf64_Phdr), table->image_size))
        return nullptr;
    std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
    std::memcpy(phdrs.data(), table->image + eh.e_phoff, phdrs.size() * sizeof(Elf64_Phdr));

    for (const auto& ph : phdrs) {
        if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
        if (!fits(ph.p_offset, ph.p_filesz, table->image_size)) continue;
        table->segments.push_back({ph.p_vaddr + bias, ph.p_filesz, ph.p_offset});
    }
    const UnwindTable& t = *table;
    VaddrReader read = [&t, &phdrs](uint64_t vaddr, void* out, size_t len) {
        for (const auto& ph : phdrs) {
            if (ph.p_type != PT_LOAD || vaddr < ph.p_vaddr || !fits(vaddr - ph.p_vaddr, len, ph.p_filesz))
                continue;
            uint64_t at = vaddr - ph.p_vaddr;  // a file cut short still serves what it has
            if (ph.p_offset > t.image_size || !fits(at, len, t.image_size - ph.p_offset)) return false;
            std::memcpy(out, t.image + ph.p_offset + at, len);
            return true;
        }
        return false;
    };
    locate_table(*table, phdrs, bias, read);
    return table;
}

std::unique_ptr<UnwindTable> load_unwind_table_from_memory(Target& target, uint64_t elf_address,
                                                           std::optional<uint64_t> bias,
                                                           uint64_t low, uint64_t high) {
    auto eh = target.read_value<Elf64_Ehdr>(elf_address);
    if (!eh || !valid_header(*eh)) return nullptr;
    std::vector<Elf64_Phdr> phdrs(eh->e_phnum);
    if (!target.read_exact(elf_address + eh->e_phoff, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr)))
        return nullptr;
    if (!bias) {
        for (const auto& ph : phdrs)
            if (ph.p_type == PT_LOAD && ph.p_offset == 0) {
                bias = elf_address - ph.p_vaddr;
                break;
            }
        if (!bias) return nullptr;
    }
    auto table = std::make_unique<UnwindTable>();
    table->low = low;
    table->high = high;
    uint64_t b = *bias;
    VaddrReader read = [&target, b](uint64_t vaddr, void* out, size_t len) {
        return target.read_exact(vaddr + b, out, len);
    };
    locate_table(*table, phdrs, b, read);
    return table;
}

}  // namespace snag
