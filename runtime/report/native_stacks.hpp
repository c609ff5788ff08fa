// Native stacks of every thread as a StackReport: unwind first (reads target memory, so a live
// target must still be stopped), then symbolize (reads module files on disk).
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "report/stack_report.hpp"
#include "symbols/symbolizer.hpp"
#include "target/target.hpp"
#include "unwind/unwinder.hpp"

namespace snag {

inline constexpr size_t kDefaultMaxDepth = 256;

// Walks every thread that has registers, in the target's thread order.
std::vector<NativeStack> unwind_threads(Target& target, Unwinder& unwinder,
                                        size_t max_depth = kDefaultMaxDepth);

// Remembers symbols per (pc, call site): threads of one program share most of their pcs.
class SymbolMemo {
public:
    explicit SymbolMemo(Symbolizer& symbols) : symbols_(symbols) {}
    const std::vector<Symbol>& at(uint64_t pc, bool call_site);

private:
    Symbolizer& symbols_;
    std::unordered_map<uint64_t, std::vector<Symbol>> memo_[2];
};

// One stack's frames, innermost first, inlined calls expanded into extra frames at the same pc.
std::vector<FrameReport> symbolize_stack(SymbolMemo& symbols, const NativeStack& stack);
std::vector<FrameReport> symbolize_stack(Symbolizer& symbols, const NativeStack& stack);

// Header (tid, name, state, CPU) from the target's thread plus its symbolized frames.
ThreadReport native_thread_report(const Thread& thread, SymbolMemo& symbols, const NativeStack& stack);

// The JSON "target" object: kind, pid, name, executable, cmdline, signal.
std::vector<std::pair<std::string, std::string>> describe_target(const Target& target);

// "thread N: stack incomplete at 0x…: why" for each walk that stopped early on what the stack
// holds (unreadable or corrupt); the frames found up to there are still reported.
std::vector<std::string> incomplete_stack_warnings(const Target& target, const std::vector<NativeStack>& stacks);

// Symbolizes stacks collected by unwind_threads (safe after a live target was detached).
StackReport native_report(const Target& target, Symbolizer& symbols,
                          const std::vector<NativeStack>& stacks);

// Both steps at once, for callers that keep the target stopped anyway.
StackReport native_stacks(Target& target, Symbolizer& symbols, Unwinder& unwinder,
                          size_t max_depth = kDefaultMaxDepth);

}  // namespace snag
