// x86_64 registers by gdb name ("rip", "eax", "pc", "fs_base") over the kernel's user_regs_struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "target/target.hpp"

namespace snag {

struct RegisterName {
    const char* name;
    size_t offset;  // into Registers
};

// The registers `info registers` prints, in gdb's order.
const RegisterName* gdb_registers(size_t* count);

// Full registers and their 32/16/8-bit views (eax, ax, al), plus pc/sp/fp aliases.
std::optional<uint64_t> register_by_name(const Registers& regs, std::string_view name);

// xmm0-15 (16 bytes), ymm0-15 (32 bytes, when the AVX halves are known) and mxcsr (4 bytes) as
// little-endian bytes; nullopt for other names.
std::optional<std::string> vector_register(const VectorRegisters& vector, std::string_view name);
// True for the names vector_register knows, whether or not this thread has them.
bool is_vector_register(std::string_view name);

// Registers an unwound (non-innermost) frame recovers reliably on x86_64.
bool is_callee_saved(std::string_view name);

}  // namespace snag
