// Per-module unwind tables: where a module's .eh_frame_hdr search table lives at run time, and
// the module's read-only segments served straight from the file on disk (fast path for CFI reads).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "target/target.hpp"

namespace snag {

// A read-only loadable segment of the file: runtime addresses [start, start + size) ↔ file offset.
struct ImageSegment {
    uint64_t start = 0;
    uint64_t size = 0;  // bytes present in the file (p_filesz)
    uint64_t file_offset = 0;
};

struct UnwindTable {
    uint64_t low = 0, high = 0;          // runtime range of the module, for lookups by address
    uint64_t text_low = 0, text_high = 0;  // executable range the search table covers
    bool has_table = false;              // .eh_frame_hdr with a binary search table was found
    uint64_t segbase = 0;                // runtime address of .eh_frame_hdr (datarel base)
    uint64_t table_data = 0;             // runtime address of the search table
    uint64_t table_bytes = 0;            // fde_count * 8
    std::string problem;                 // why has_table is false

    // Serves an aligned word from the mapped file when addr is in a read-only segment.
    bool read_word(uint64_t addr, uint64_t* out) const {
        for (const auto& seg : segments)
            if (addr - seg.start < seg.size && seg.size - (addr - seg.start) >= 8) {
                __builtin_memcpy(out, image + seg.file_offset + (addr - seg.start), 8);
                return true;
            }
        return false;
    }

    ~UnwindTable();
    UnwindTable() = default;
    UnwindTable(const UnwindTable&) = delete;
    UnwindTable& operator=(const UnwindTable&) = delete;

    const uint8_t* image = nullptr;  // mmap of the whole file, null when read from target memory
    size_t image_size = 0;
    std::vector<ImageSegment> segments;
};

// From the ELF file on disk loaded with the given bias (runtime address - ELF vaddr).
std::unique_ptr<UnwindTable> load_unwind_table_from_file(const std::string& path, uint64_t bias,
                                                         uint64_t low, uint64_t high);

// From target memory: the ELF header is mapped at elf_address (vDSO, files missing or changed on disk).
// Without a bias, it is derived from the PT_LOAD that maps the ELF header.
std::unique_ptr<UnwindTable> load_unwind_table_from_memory(Target& target, uint64_t elf_address,
                                                           std::optional<uint64_t> bias,
                                                           uint64_t low, uint64_t high);

}  // namespace snag
