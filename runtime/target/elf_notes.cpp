#include "target/elf_notes.hpp"

#include <elf.h>

#include <cstring>

namespace snag::elf {
namespace {

uint64_t align_up(uint64_t value, uint64_t align) { return (value + align - 1) & ~(align - 1); }

template <class T>
bool load(std::string_view bytes, uint64_t offset, T& out) {
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

constexpr size_t kMaxPhnum = 4096;     // objects (not cores) never have more program headers
constexpr size_t kMaxNoteBytes = 1 << 20;

// Walks an ELF image's PT_NOTE segments, located by file offset or by virtual address.
std::optional<std::string> find_build_id(const ReadFn& read, uint64_t base, bool by_offset) {
    Elf64_Ehdr ehdr;
    if (read(base, &ehdr, sizeof ehdr) != sizeof ehdr) return std::nullopt;
    if (std::memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0 || ehdr.e_ident[EI_CLASS] != ELFCLASS64)
        return std::nullopt;
    if (ehdr.e_phentsize != sizeof(Elf64_Phdr) || ehdr.e_phnum == 0 || ehdr.e_phnum > kMaxPhnum)
        return std::nullopt;
    std::vector<Elf64_Phdr> phdrs(ehdr.e_phnum);
    size_t want = phdrs.size() * sizeof(Elf64_Phdr);
    if (read(base + ehdr.e_phoff, phdrs.data(), want) != want) return std::nullopt;
    // In memory, addresses are relative to the load bias: base minus the first segment's page.
    uint64_t bias = base;
    for (const auto& ph : phdrs) {
        if (ph.p_type == PT_LOAD) {
            bias = base - (ph.p_vaddr & ~uint64_t{0xfff});
            break;
        }
    }
    for (const auto& ph : phdrs) {
        if (ph.p_type != PT_NOTE || ph.p_filesz == 0 || ph.p_filesz > kMaxNoteBytes) continue;
        std::string bytes(ph.p_filesz, '\0');
        uint64_t at = by_offset ? base + ph.p_offset : bias + ph.p_vaddr;
        if (read(at, bytes.data(), bytes.size()) != bytes.size()) continue;
        auto notes = parse_notes(bytes, ph.p_align == 8 ? 8 : 4);
        if (!notes) continue;
        for (const auto& note : *notes)
            if (note.type == NT_GNU_BUILD_ID && note.name == "GNU" && !note.desc.empty())
                return to_hex(note.desc);
    }
    return std::nullopt;
}

}  // namespace

Expected<std::vector<Note>> parse_notes(std::string_view segment, uint64_t align) {
    std::vector<Note> notes;
    uint64_t pos = 0;
    while (pos < segment.size()) {
        Elf64_Nhdr header;
        if (!load(segment, pos, header))
            return fail("note at offset " + std::to_string(pos) + " has a cut header");
        uint64_t name_at = pos + sizeof header;
        uint64_t desc_at = name_at + align_up(header.n_namesz, align);
        uint64_t end = desc_at + align_up(header.n_descsz, align);
        // Sizes are 32-bit, so these sums cannot overflow 64 bits.
        if (desc_at + header.n_descsz > segment.size())
            return fail("note at offset " + std::to_string(pos) + " runs past the end of its segment");
        Note note;
        note.name = segment.substr(name_at, header.n_namesz);
        while (!note.name.empty() && note.name.back() == '\0') note.name.remove_suffix(1);
        note.type = header.n_type;
        note.desc = segment.substr(desc_at, header.n_descsz);
        note.offset = pos;
        notes.push_back(note);
        pos = end;
    }
    return notes;
}

Expected<std::vector<FileMapping>> parse_nt_file(std::string_view desc) {
    uint64_t count = 0, page_size = 0;
    if (!load(desc, 0, count) || !load(desc, 8, page_size)) return fail("NT_FILE note is too short");
    if (count > (desc.size() - 16) / 24) return fail("NT_FILE note claims more entries than it holds");
    std::vector<FileMapping> mappings(count);
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t triple[3];
        std::memcpy(triple, desc.data() + 16 + i * 24, sizeof triple);
        if (triple[1] < triple[0]) return fail("NT_FILE entry " + std::to_string(i) + " ends before it starts");
        mappings[i].start = triple[0];
        mappings[i].end = triple[1];
        if (page_size != 0 && triple[2] > UINT64_MAX / page_size)
            return fail("NT_FILE entry " + std::to_string(i) + " has an impossible file offset");
        mappings[i].file_offset = triple[2] * page_size;
    }
    uint64_t pos = 16 + count * 24;
    for (uint64_t i = 0; i < count; ++i) {
        if (pos >= desc.size()) return fail("NT_FILE note is missing file names");
        size_t nul = desc.find('\0', pos);
        if (nul == std::string_view::npos) return fail("NT_FILE note has an unterminated file name");
        mappings[i].path = std::string(desc.substr(pos, nul - pos));
        pos = nul + 1;
    }
    return mappings;
}

std::string build_nt_file(const std::vector<FileMapping>& mappings, uint64_t page_size) {
    std::string out;
    auto put = [&out](uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
    put(mappings.size());
    put(page_size);
    for (const auto& m : mappings) {
        put(m.start);
        put(m.end);
        put(m.file_offset / page_size);
    }
    for (const auto& m : mappings) {
        out += m.path;
        out.push_back('\0');
    }
    return out;
}

std::optional<std::string> build_id_in_memory(const ReadFn& read, uint64_t base) {
    return find_build_id(read, base, false);
}

std::optional<std::string> build_id_in_file(std::string_view image) {
    ReadFn read = [image](uint64_t at, void* out, size_t len) -> size_t {
        if (at >= image.size()) return 0;
        size_t n = std::min<uint64_t>(len, image.size() - at);
        std::memcpy(out, image.data() + at, n);
        return n;
    };
    return find_build_id(read, 0, true);
}

std::string to_hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

}  // namespace snag::elf
