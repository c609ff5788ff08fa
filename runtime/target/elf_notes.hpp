// ELF note and build-id parsing over untrusted bytes: every length is checked against its container.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace snag::elf {

struct Note {
    std::string_view name;  // without the trailing NUL
    uint32_t type = 0;
    std::string_view desc;
    uint64_t offset = 0;    // of the note header inside its segment
};

// Splits a PT_NOTE segment (align 4 in cores, 4 or 8 in objects) into notes; fails on overruns.
Expected<std::vector<Note>> parse_notes(std::string_view segment, uint64_t align = 4);

// One NT_FILE entry: a file-backed mapping recorded by the kernel (or by `snag dump`).
struct FileMapping {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t file_offset = 0;  // bytes (the note stores pages)
    std::string path;
};
Expected<std::vector<FileMapping>> parse_nt_file(std::string_view desc);
// The inverse of parse_nt_file: the NT_FILE descriptor for these mappings.
std::string build_nt_file(const std::vector<FileMapping>& mappings, uint64_t page_size);

// Reads up to len bytes at addr (a file offset or a virtual address); returns bytes copied.
using ReadFn = std::function<size_t(uint64_t addr, void* out, size_t len)>;

// GNU build-id (lowercase hex) of an ELF image loaded in memory at base (its first page mapped there).
std::optional<std::string> build_id_in_memory(const ReadFn& read, uint64_t base);
// GNU build-id (lowercase hex) of an ELF file's bytes.
std::optional<std::string> build_id_in_file(std::string_view image);

std::string to_hex(std::string_view bytes);

}  // namespace snag::elf
