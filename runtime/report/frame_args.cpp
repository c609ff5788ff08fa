#include "report/frame_args.hpp"

#include "symbols/frame_locals.hpp"
#include "unwind/frame_states.hpp"

namespace snag {

void add_frame_args(Target& target, Symbolizer& symbols, const std::vector<NativeStack>& stacks, StackReport& report) {
    FrameLocals locals(target, [&symbols](uint64_t addr) -> std::optional<std::string> {
        auto at = symbols.symbol_at(addr);
        if (!at) return std::nullopt;
        return at->second ? at->first + "+" + std::to_string(at->second) : at->first;
    }, [&symbols](const Module& m) { return symbols.dwarf_at(m.start); }, [&symbols] { return symbols.call_sites(); });
    for (size_t t = 0; t < stacks.size() && t < report.threads.size(); ++t) {
        const NativeStack& stack = stacks[t];
        const Thread* thread = target.thread(stack.tid);
        std::vector<CallerFrame> frames = frame_states(thread, stack, 0, symbols);
        for (FrameReport& frame : report.threads[t].frames) {
            if (frame.kind != FrameReport::Kind::Native || frame.physical >= stack.frames.size()) continue;
            const Module* module = symbols.module_at(frame.pc);
            if (!module || frame.function.empty()) continue;
            auto args = locals.locals(*module, frames[frame.physical].state, frame.inline_depth,
                                      FrameLocals::Kind::Arguments, std::span(frames).subspan(frame.physical + 1));
            if (!args) continue;
            frame.args.emplace();
            for (const auto& a : *args) {
                // gdb compares the values themselves: equal ones print as x=x@entry=V.
                std::optional<std::string> entry;
                if (a.entry_value) entry = *a.entry_value == a.value ? frame_line_value(a.value) : frame_line_value(*a.entry_value);
                frame.args->push_back({a.name, frame_line_value(a.value), entry});
            }
        }
    }
}

}  // namespace snag
