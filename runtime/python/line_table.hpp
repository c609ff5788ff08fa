// Line tables: code-object offsets to source lines, for the three formats CPython has used.
#pragma once

#include <cstdint>
#include <string_view>

namespace snag::python {

enum class LineTableFormat {
    Lnotab27,       // 2.7 co_lnotab: unsigned line deltas
    Lnotab,         // 3.6–3.9 co_lnotab: (addr delta, signed line delta) byte pairs
    Linetable310,   // 3.10 co_linetable (PEP 626): (byte delta, line delta), -128 = no line
    Locations311,   // 3.11+ location table (Objects/locations.md), lengths in code units
};

// Where an instruction's source is: lines and 0-based columns (CPython's co_positions); -1 where
// the table says nothing (columns exist from 3.11).
struct SourcePosition {
    int line = -1, end_line = -1, column = -1, end_column = -1;
};

// Line of the instruction at byte_offset in the bytecode; firstlineno when the table says nothing.
// Returns -1 for an instruction that has no line (3.10+ "no line" entries).
int line_for_offset(LineTableFormat format, std::string_view table, int firstlineno,
                    int64_t byte_offset);
SourcePosition position_for_offset(LineTableFormat format, std::string_view table, int firstlineno,
                                   int64_t byte_offset);

}  // namespace snag::python
