#include "symbols/line_table.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <string.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace snag {

namespace {

using Bytes = const unsigned char*;

struct Sections {
    Elf_Data* line = nullptr;
    Elf_Data* line_str = nullptr;
    Elf_Data* str = nullptr;
};

Sections sections_of(Dwarf* dwarf) {
    Sections out;
    Elf* elf = dwarf ? dwarf_getelf(dwarf) : nullptr;
    size_t names = 0;
    if (!elf || elf_getshdrstrndx(elf, &names) != 0) return out;
    for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS) continue;
        const char* name = elf_strptr(elf, names, shdr.sh_name);
        if (!name) continue;
        std::string_view n(name);
        Elf_Data** slot = n == ".debug_line" ? &out.line : n == ".debug_line_str" ? &out.line_str
                        : n == ".debug_str"  ? &out.str
                                             : nullptr;
        if (slot && !*slot) *slot = elf_getdata(scn, nullptr);
    }
    return out;
}

// libdw's LEB128 readers, byte for byte: at most 10 (9 signed) bytes, then "too big".
uint64_t uleb(Bytes& p, Bytes end) {
    uint64_t acc = 0;
    size_t max = 10;
    for (size_t i = 0;; ++i) {
        unsigned char b = *p++;
        acc |= uint64_t(b & 0x7f) << (i * 7);
        if (!(b & 0x80)) return acc;
        if (i == 0) max = std::min<size_t>(10, size_t(end - (p - 1)));
        if (i + 1 >= max) return UINT64_MAX;
    }
}

int64_t sleb(Bytes& p, Bytes end) {
    uint64_t acc = 0;
    size_t max = 9;
    for (size_t i = 0;; ++i) {
        unsigned char b = *p++;
        acc |= uint64_t(b & 0x7f) << (i * 7);
        if (!(b & 0x80)) {
            if (b & 0x40) acc |= -(uint64_t(1) << ((i + 1) * 7));
            return int64_t(acc);
        }
        if (i == 0) max = std::min<size_t>(9, size_t(end - (p - 1)));
        if (i + 1 >= max) break;
    }
    if (p == end) return INT64_MAX;
    unsigned char b = *p++;
    if (b & 0x80) return INT64_MAX;
    return int64_t(acc | (uint64_t(b) << (7 * max)));
}

uint64_t read_le(Bytes p, size_t size) {
    uint64_t v = 0;
    memcpy(&v, p, size);  // x86-64 only: little endian
    return v;
}

// A string a DWARF 5 file/dir entry points to; nullptr when the form is not handled here.
const char* form_string(uint16_t form, Bytes p, Bytes end, unsigned offset_size, const Sections& s) {
    if (form == DW_FORM_string) {
        auto* nul = static_cast<Bytes>(memchr(p, 0, end - p));
        return nul ? reinterpret_cast<const char*>(p) : nullptr;
    }
    Elf_Data* data = form == DW_FORM_line_strp ? s.line_str : form == DW_FORM_strp ? s.str : nullptr;
    if (!data || size_t(end - p) < offset_size) return nullptr;
    uint64_t off = read_le(p, offset_size);
    if (off >= data->d_size) return nullptr;
    auto* base = static_cast<const char*>(data->d_buf);
    return memchr(base + off, 0, data->d_size - off) ? base + off : nullptr;
}

// Bytes a form's value takes; 0 with ok=false when not handled here.
size_t form_size(uint16_t form, Bytes p, Bytes end, unsigned offset_size, bool& ok) {
    ok = p < end;  // every form takes at least a byte
    if (!ok) return 0;
    switch (form) {
    case DW_FORM_data1: case DW_FORM_flag: return 1;
    case DW_FORM_data2: return 2;
    case DW_FORM_data4: return 4;
    case DW_FORM_data8: return 8;
    case DW_FORM_data16: return 16;
    case DW_FORM_line_strp: case DW_FORM_strp: case DW_FORM_sec_offset: return offset_size;
    case DW_FORM_udata: case DW_FORM_sdata: {
        Bytes q = p;
        while (q < end && (*q & 0x80)) ++q;
        return size_t(q - p) + 1;
    }
    case DW_FORM_string: {
        auto* nul = static_cast<Bytes>(memchr(p, 0, end - p));
        if (nul) return size_t(nul - p) + 1;
        break;
    }
    case DW_FORM_block: {
        Bytes q = p;
        uint64_t n = uleb(q, end);
        return size_t(q - p) + n;
    }
    case DW_FORM_block1: return 1 + size_t(*p);
    }
    ok = false;
    return 0;
}

uint64_t form_udata(uint16_t form, Bytes p, Bytes end, bool& ok) {
    ok = true;
    switch (form) {
    case DW_FORM_data1: return p[0];
    case DW_FORM_data2: return read_le(p, 2);
    case DW_FORM_data4: return read_le(p, 4);
    case DW_FORM_data8: return read_le(p, 8);
    case DW_FORM_udata: return uleb(p, end);
    }
    ok = false;
    return 0;
}

// A row's place in libdw's sorted table: address, then end_sequence rows first, then program order.
struct RowKey {
    uint64_t address = 0;
    bool normal = false;  // not an end_sequence row
    size_t sequence = 0;
    bool operator<(const RowKey& o) const {
        if (address != o.address) return address < o.address;
        if (normal != o.normal) return !normal;
        return sequence < o.sequence;
    }
};

struct Best {
    bool found = false;
    RowKey key;
    unsigned file = 0;
    int line = 0;
};

class Program {
public:
    Program(Bytes p, Bytes end, const char* comp_dir, unsigned address_size, const Sections& s)
        : p_(p), end_(end), comp_dir_(comp_dir), address_size_(address_size), sections_(s) {}

    bool read(const std::vector<uint64_t>& sorted, std::vector<Best>& best);
    std::vector<LineFile> files;

private:
    bool header();
    bool rows(const std::vector<uint64_t>& sorted, std::vector<Best>& best);

    Bytes p_, end_;
    const char* comp_dir_;
    unsigned address_size_;
    const Sections& sections_;
    unsigned offset_size_ = 4;
    unsigned version_ = 0;
    uint8_t min_instr_ = 1, max_ops_ = 1, default_is_stmt_ = 1, line_range_ = 0, opcode_base_ = 0;
    int8_t line_base_ = 0;
    Bytes opcode_lengths_ = nullptr;  // indexed by opcode, like libdw (entry 0 unused)
    std::vector<const char*> dirs_;
};

bool Program::header() {
    if (end_ - p_ < 4) return false;
    uint64_t length = read_le(p_, 4);
    p_ += 4;
    if (length == 0xffffffff) {
        if (end_ - p_ < 8) return false;
        length = read_le(p_, 8);
        p_ += 8;
        offset_size_ = 8;
    }
    if (length > size_t(end_ - p_)) return false;
    end_ = p_ + length;
    if (end_ - p_ < 2) return false;
    version_ = read_le(p_, 2);
    p_ += 2;
    if (version_ < 2 || version_ > 5) return false;
    if (version_ >= 5) {
        if (end_ - p_ < 2 || p_[0] != address_size_ || p_[1] != 0) return false;
        p_ += 2;
    }
    if (size_t(end_ - p_) < offset_size_) return false;
    uint64_t header_length = read_le(p_, offset_size_);
    p_ += offset_size_;
    Bytes header_start = p_;
    min_instr_ = *p_++;
    if (version_ >= 4) {
        if (end_ - p_ < 1) return false;
        max_ops_ = *p_++;
        if (max_ops_ == 0) return false;
    }
    if (end_ - p_ < 4) return false;
    default_is_stmt_ = *p_++;
    line_base_ = int8_t(*p_++);
    line_range_ = *p_++;
    opcode_base_ = *p_++;
    opcode_lengths_ = p_ - 1;
    if (end_ - p_ < opcode_base_ - 1) return false;
    p_ += opcode_base_ - 1;
    if (default_is_stmt_ > 1) return false;  // libdw stores it in one bit and rejects the unit
    if (version_ < 5) {
        dirs_.push_back(comp_dir_);
        while (p_ < end_ && *p_) {
            auto* nul = static_cast<Bytes>(memchr(p_, 0, end_ - p_));
            if (!nul) return false;
            dirs_.push_back(reinterpret_cast<const char*>(p_));
            p_ = nul + 1;
        }
        if (p_ >= end_) return false;
        ++p_;
        files.push_back(LineFile{});
        if (p_ >= end_) return false;
        while (p_ < end_ && *p_) {
            auto* nul = static_cast<Bytes>(memchr(p_, 0, end_ - p_));
            if (!nul) return false;
            const char* name = reinterpret_cast<const char*>(p_);
            p_ = nul + 1;
            if (p_ >= end_) return false;
            uint64_t dir = uleb(p_, end_);
            if (dir >= dirs_.size()) return false;
            files.push_back(LineFile{dirs_[dir], name});
            for (int i = 0; i < 2; ++i) {  // mtime, length
                if (p_ >= end_) return false;
                uleb(p_, end_);
            }
        }
        if (p_ >= end_) return false;
        ++p_;
    } else {
        for (int table = 0; table < 2; ++table) {  // directories, then files
            if (end_ - p_ < 1) return false;
            unsigned nforms = *p_++;
            uint16_t forms[256];
            int path = -1, dir_index = -1;
            for (unsigned i = 0; i < nforms; ++i) {
                if (end_ - p_ < 1) return false;
                auto desc = uint16_t(uleb(p_, end_));
                if (end_ - p_ < 1) return false;
                forms[i] = uint16_t(uleb(p_, end_));
                if (desc == DW_LNCT_path) path = int(i);
                else if (desc == DW_LNCT_directory_index && table == 1) dir_index = int(i);
            }
            if (nforms > 0 && (path < 0 || (table == 1 && dir_index < 0))) return false;
            if (table == 1 && p_ >= end_) return false;
            if (table == 0 && end_ - p_ < 1) return false;
            uint64_t count = uleb(p_, end_);
            if (nforms == 0 && count != 0) return false;
            if (nforms != 0 && count > size_t(end_ - p_) / nforms) return false;
            for (uint64_t n = 0; n < count; ++n) {
                const char* name = nullptr;
                uint64_t dir = UINT64_MAX;
                for (unsigned m = 0; m < nforms; ++m) {
                    bool ok = false;
                    size_t size = form_size(forms[m], p_, end_, offset_size_, ok);
                    if (!ok || size_t(end_ - p_) < size) return false;
                    if (int(m) == path && !(name = form_string(forms[m], p_, end_, offset_size_, sections_)))
                        return false;
                    if (int(m) == dir_index) {
                        dir = form_udata(forms[m], p_, end_, ok);
                        if (!ok) return false;
                    }
                    p_ += size;
                }
                if (!name) return false;
                if (table == 0) {
                    dirs_.push_back(name);
                    continue;
                }
                if (dir >= dirs_.size()) return false;
                files.push_back(LineFile{dirs_[dir], name});
            }
        }
        if (files.empty()) files.push_back(LineFile{});
    }
    if (p_ == header_start + header_length - 4) p_ += 4;  // CUBIN's string offset
    return p_ == header_start + header_length;
}

bool Program::read(const std::vector<uint64_t>& sorted, std::vector<Best>& best) {
    return header() && rows(sorted, best);
}

bool Program::rows(const std::vector<uint64_t>& sorted, std::vector<Best>& best) {
    uint64_t address = 0;
    uint32_t op_index = 0, file = 1, column = 0, isa = 0, discriminator = 0;
    int64_t line = 1;
    unsigned is_stmt = default_is_stmt_;
    size_t sequence = 0;
    Best last;  // the highest row: libdw marks it end_sequence
    auto advance = [&](uint32_t op_advance) {
        address += uint32_t(min_instr_ * ((op_index + op_advance) / max_ops_));
        op_index = (op_index + op_advance) % max_ops_;
    };
    // libdw keeps these in bit fields and rejects the unit when a value does not fit.
    auto add_row = [&](bool end_sequence) {
        if (line != int64_t(int(line)) || column > 0xffff || op_index > 0xff || isa > 0xff ||
            discriminator > 0xffffff)
            return false;
        Best row{true, RowKey{address, !end_sequence, sequence++}, file, int(line)};
        if (!last.found || last.key < row.key) last = row;
        auto slot = std::lower_bound(sorted.begin(), sorted.end(), address) - sorted.begin();
        if (size_t(slot) < sorted.size() && (!best[slot].found || best[slot].key < row.key)) best[slot] = row;
        return true;
    };
    auto reset_flags = [&] { discriminator = 0; };
    while (p_ < end_) {
        unsigned opcode = *p_++;
        if (opcode >= opcode_base_) {
            if (line_range_ == 0) return false;
            line += line_base_ + int((opcode - opcode_base_) % line_range_);
            advance((opcode - opcode_base_) / line_range_);
            if (!add_row(false)) return false;
            reset_flags();
        } else if (opcode == 0) {
            if (end_ - p_ < 2) return false;
            unsigned len = *p_++;  // libdw reads one byte here, not a LEB128
            if (size_t(end_ - p_) < len) return false;
            unsigned sub = *p_++;
            switch (sub) {
            case DW_LNE_end_sequence:
                if (!add_row(true)) return false;
                address = 0;
                op_index = 0;
                file = 1;
                line = 1;
                column = 0;
                is_stmt = default_is_stmt_;
                isa = 0;
                discriminator = 0;
                break;
            case DW_LNE_set_address:
                op_index = 0;
                if (size_t(end_ - p_) < address_size_) return false;
                address = read_le(p_, address_size_);
                p_ += address_size_;
                break;
            case DW_LNE_define_file: {
                auto* nul = static_cast<Bytes>(memchr(p_, 0, end_ - p_));
                if (!nul) return false;
                const char* name = reinterpret_cast<const char*>(p_);
                p_ = nul + 1;
                if (p_ >= end_) return false;
                auto dir = uint32_t(uleb(p_, end_));
                if (dir >= dirs_.size()) return false;
                for (int i = 0; i < 2; ++i) {
                    if (p_ >= end_) return false;
                    uleb(p_, end_);
                }
                files.push_back(LineFile{dirs_[dir], name});
                break;
            }
            case DW_LNE_set_discriminator:
                if (opcode_lengths_[sub] != 1 || p_ >= end_) return false;
                discriminator = uint32_t(uleb(p_, end_));
                break;
            case DW_LNE_NVIDIA_inlined_call:
            case DW_LNE_NVIDIA_set_function_name:
                return false;  // CUDA: left to libdw
            default:
                if (size_t(end_ - (p_ - 1)) < len) return false;
                p_ += int(len) - 1;
                break;
            }
        } else if (opcode <= DW_LNS_set_isa) {
            unsigned expected = (opcode == DW_LNS_copy || opcode == DW_LNS_negate_stmt ||
                                 opcode == DW_LNS_set_basic_block || opcode == DW_LNS_const_add_pc ||
                                 opcode == DW_LNS_set_prologue_end || opcode == DW_LNS_set_epilogue_begin)
                                    ? 0
                                    : 1;
            if (opcode_lengths_[opcode] != expected) return false;
            bool takes_leb = expected == 1 && opcode != DW_LNS_fixed_advance_pc;
            if (takes_leb && p_ >= end_) return false;
            switch (opcode) {
            case DW_LNS_copy:
                if (!add_row(false)) return false;
                reset_flags();
                break;
            case DW_LNS_advance_pc: advance(uint32_t(uleb(p_, end_))); break;
            case DW_LNS_advance_line: line += int(sleb(p_, end_)); break;
            case DW_LNS_set_file: file = uint32_t(uleb(p_, end_)); break;
            case DW_LNS_set_column: column = uint32_t(uleb(p_, end_)); break;
            case DW_LNS_negate_stmt: is_stmt = 1 - is_stmt; break;
            case DW_LNS_set_basic_block: break;
            case DW_LNS_const_add_pc:
                if (line_range_ == 0) return false;
                advance((255 - opcode_base_) / line_range_);
                break;
            case DW_LNS_fixed_advance_pc:
                if (end_ - p_ < 2) return false;
                address += read_le(p_, 2);
                p_ += 2;
                op_index = 0;
                break;
            case DW_LNS_set_prologue_end: case DW_LNS_set_epilogue_begin: break;
            case DW_LNS_set_isa: isa = uint32_t(uleb(p_, end_)); break;
            }
        } else {
            for (int n = opcode_lengths_[opcode]; n > 0; --n) {
                if (p_ >= end_) return false;
                uleb(p_, end_);
            }
        }
    }
    (void)is_stmt;
    // Rows at or below an address count for every higher address too.
    for (size_t i = 1; i < best.size(); ++i)
        if (best[i - 1].found && (!best[i].found || best[i].key < best[i - 1].key)) best[i] = best[i - 1];
    // dwfl_module_getsrc: no line for an address whose row ends a sequence (or is the last).
    for (auto& b : best)
        if (b.found && (!b.key.normal || (!(b.key < last.key) && !(last.key < b.key)))) b.found = false;
    return true;
}

}  // namespace

std::optional<UnitLines> read_unit_lines(Dwarf_Die* cu, const std::vector<uint64_t>& addresses) {
    uint8_t unit_type = 0;
    if (!cu || dwarf_cu_info(cu->cu, nullptr, &unit_type, nullptr, nullptr, nullptr, nullptr, nullptr) != 0 ||
        unit_type == DW_UT_split_compile || unit_type == DW_UT_split_type)
        return std::nullopt;
    Dwarf_Attribute attr;
    Dwarf_Word offset = 0;
    if (!dwarf_attr(cu, DW_AT_stmt_list, &attr) || dwarf_formudata(&attr, &offset) != 0) return std::nullopt;
    uint8_t address_size = 0;
    Dwarf_Die unit;
    if (!dwarf_diecu(cu, &unit, &address_size, nullptr)) return std::nullopt;
    Sections sections = sections_of(dwarf_cu_getdwarf(cu->cu));
    if (!sections.line || offset >= sections.line->d_size) return std::nullopt;
    const char* comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    auto* base = static_cast<Bytes>(sections.line->d_buf);
    Program program(base + offset, base + sections.line->d_size, comp_dir, address_size, sections);
    std::vector<uint64_t> sorted = addresses;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::vector<Best> best(sorted.size());
    if (!program.read(sorted, best)) return std::nullopt;
    UnitLines out;
    out.files = std::move(program.files);
    for (uint64_t address : addresses) {
        const Best& b = best[std::lower_bound(sorted.begin(), sorted.end(), address) - sorted.begin()];
        if (b.found && b.file < out.files.size()) out.at.push_back(SourceLocation{out.files[b.file].path(), b.line});
        else out.at.emplace_back();
    }
    return out;
}

}  // namespace snag
