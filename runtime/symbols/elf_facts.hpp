// ELF facts: the few header-level properties module collection needs, from a file or from memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "target/target.hpp"

namespace snag {

struct ElfFacts {
    bool is_exec = false;          // ET_EXEC: fixed addresses, bias 0
    uint64_t first_load_vaddr = 0; // first PT_LOAD p_vaddr aligned down to p_align
    uint64_t image_end = 0;        // highest PT_LOAD p_vaddr + p_memsz (link-time address)
    std::string build_id;          // hex, empty when there is no NT_GNU_BUILD_ID
    bool has_debug_info = false;   // .debug_info or .zdebug_info present
    std::string debuglink;         // .gnu_debuglink file name, empty when absent
};

// True when the first four bytes of the file are the ELF magic.
bool is_elf_file(const std::string& path);

// Facts from an ELF file on disk; nullopt when it cannot be opened or is not ELF.
std::optional<ElfFacts> read_elf_facts(const std::string& path);

// Facts from an ELF image mapped in the target at `start` (the mapping holding file offset 0).
// Sections are not mapped, so has_debug_info and debuglink stay empty.
std::optional<ElfFacts> read_elf_facts(Target& target, uint64_t start);

std::string to_hex(const void* bytes, size_t len);

}  // namespace snag
