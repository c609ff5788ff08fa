// frame_states: a walked stack as FrameLocals reads it (pc, registers, CFA of each physical frame,
// with its module), shared by bt's frame arguments and the session's `info locals`.
#pragma once

#include <vector>

#include "symbols/frame_locals.hpp"
#include "unwind/unwinder.hpp"

namespace snag {

// Frames first.. of stack, innermost first. The innermost frame has the thread's whole register
// set; outer ones what unwinding recovered. A return address is looked up at pc - 1 unless the
// frame or its callee is a signal frame.
std::vector<CallerFrame> frame_states(const Thread* thread, const NativeStack& stack, size_t first, Symbolizer& symbols);

}  // namespace snag
