// x86-64 machine code to instructions, for `x/i`, `disassemble` and Lua (Capstone underneath,
// kept behind this interface). Text follows gdb's default AT&T syntax or, on request, Intel's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace snag {

enum class Syntax { Att, Intel };

struct Instruction {
    uint64_t address = 0;
    std::string bytes;     // raw encoding, size() bytes
    std::string mnemonic;  // "mov", "call"
    std::string operands;  // "$0x0,%eax" (gdb's spelling: hex numbers, no blank after commas)
    // Direct jump or call: its target, for a <symbol+off> suffix. 0 when indirect or no branch.
    uint64_t branch_target = 0;
    // A %rip-relative memory operand: the address it designates (gdb's "# 0x… <sym>" comment).
    uint64_t rip_target = 0;
    bool is_call = false;
    bool is_return = false;
    bool decoded() const { return mnemonic.empty() || mnemonic[0] != '('; }  // "(bad)" and the like

    size_t size() const { return bytes.size(); }
    // "mov    $0x0,%eax": the mnemonic padded to gdb's column.
    std::string text() const;
    // "48 89 e5": the encoding as disassemble /r shows it.
    std::string hex_bytes() const;
};

// Decodes up to `count` instructions from `code`, which starts at `address`. Stops early at the
// end of `code` or at bytes that are no instruction (returns what came before; an error only
// when not even the first decodes).
Expected<std::vector<Instruction>> disassemble(std::string_view code, uint64_t address, size_t count,
                                               Syntax syntax = Syntax::Att);

// The longest x86-64 instruction: how many bytes to read per instruction wanted.
constexpr size_t kMaxInstructionBytes = 15;

}  // namespace snag
