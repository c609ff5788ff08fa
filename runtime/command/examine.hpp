// gdb's `x/NFU ADDR` (examine memory) and the /FMT suffixes of print and output.
#pragma once

#include <ostream>
#include <string_view>

#include "command/evaluator.hpp"

namespace snag::command {

// What x remembers between calls: the last format and unit, and where to continue.
struct ExamineState {
    char format = 'x';
    char unit = 'w';
    uint64_t next = 0;
    bool has_next = false;
};

struct FormatSpec {
    uint64_t count = 1;
    char format = 0;  // 0 = not given
    char unit = 0;    // b h w g, 0 = not given
};

// Parses the text after '/' ("4ga"); letters in any order as gdb allows.
Expected<FormatSpec> parse_format(std::string_view text);

// The address an expression designates, as x and disassemble take it: pointers and integers by
// value, objects in memory by address.
Expected<uint64_t> expression_address(Evaluator& eval, std::string_view text);

// Runs x with the text after "x" (e.g. "/4ga $rsp"). Output goes to out as it is read, so a
// failure mid-line leaves the partial line, like gdb.
Expected<void> examine(Evaluator& eval, ExamineState& state, std::string_view args, std::ostream& out);

}  // namespace snag::command
