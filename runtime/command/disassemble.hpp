// gdb's `x/i` and `disassemble [/r] [ADDR | START,END | START,+LEN]` over the disassembler.
#pragma once

#include <ostream>
#include <string_view>

#include "command/evaluator.hpp"
#include "command/examine.hpp"

namespace snag::command {

// x/Ni from state.next (already set by examine): N instructions, "=> " at the selected frame's pc.
Expected<void> examine_instructions(Evaluator& eval, ExamineState& state, uint64_t count, std::ostream& out);

// The `disassemble` command with its argument text.
Expected<void> disassemble_command(Evaluator& eval, std::string_view args, std::ostream& out);

}  // namespace snag::command
