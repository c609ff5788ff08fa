// Frame arguments for `snag bt`: each native frame's DWARF formal parameters, valued as gdb's
// frame lines show them (default `print frame-arguments scalars`: aggregates as "...").
#pragma once

#include <vector>

#include "report/stack_report.hpp"
#include "symbols/symbolizer.hpp"
#include "target/target.hpp"
#include "unwind/unwinder.hpp"

namespace snag {

// Fills FrameReport::args of report's native frames; report.threads parallel to stacks, as
// native_report makes them. Reads target memory for values kept on the stack.
void add_frame_args(Target& target, Symbolizer& symbols, const std::vector<NativeStack>& stacks, StackReport& report);

}  // namespace snag
