#include "unwind/frame_states.hpp"

namespace snag {

std::vector<CallerFrame> frame_states(const Thread* thread, const NativeStack& stack, size_t first, Symbolizer& symbols) {
    std::vector<CallerFrame> out;
    for (size_t i = first; i < stack.frames.size(); ++i) {
        const NativeFrame& native = stack.frames[i];
        FrameState state;
        state.pc = native.pc;
        state.innermost = i == 0;
        state.call_site = i > 0 && !stack.frames[i - 1].is_signal_frame && !native.is_signal_frame;
        state.cfa = native.cfa;
        state.regs = state.innermost && thread ? thread->regs : native.regs;
        out.push_back({symbols.module_at(state.pc), state});
    }
    return out;
}

}  // namespace snag
