#include "report/native_stacks.hpp"

#include <cinttypes>
#include <cstdio>

namespace snag {

std::vector<NativeStack> unwind_threads(Target& target, Unwinder& unwinder, size_t max_depth) {
    std::vector<NativeStack> stacks;
    stacks.reserve(target.threads().size());
    for (const auto& thread : target.threads()) stacks.push_back(unwinder.unwind(thread, max_depth));
    return stacks;
}

const std::vector<Symbol>& SymbolMemo::at(uint64_t pc, bool call_site) {
    auto& memo = memo_[call_site ? 1 : 0];
    auto it = memo.find(pc);
    if (it != memo.end()) return it->second;
    std::vector<Symbol> found = symbols_.symbolize(pc, call_site);
    if (found.empty()) found.emplace_back();
    return memo.emplace(pc, std::move(found)).first->second;
}

std::vector<FrameReport> symbolize_stack(Symbolizer& symbols, const NativeStack& stack) {
    SymbolMemo memo(symbols);
    return symbolize_stack(memo, stack);
}

std::vector<FrameReport> symbolize_stack(SymbolMemo& symbols, const NativeStack& stack) {
    std::vector<FrameReport> frames;
    frames.reserve(stack.frames.size() + 4);
    for (size_t i = 0; i < stack.frames.size(); ++i) {
        const NativeFrame& native = stack.frames[i];
        // Return addresses point after the call; the frame above a signal frame was interrupted
        // exactly at its pc, and the signal trampoline itself is entered at its first byte.
        bool call_site = i > 0 && !stack.frames[i - 1].is_signal_frame && !native.is_signal_frame;
        size_t depth = 0;
        for (const Symbol& symbol : symbols.at(native.pc, call_site)) {
            FrameReport frame;
            frame.pc = native.pc;
            frame.physical = i;
            frame.inline_depth = depth++;
            frame.function = symbol.function;
            frame.offset = symbol.offset;
            if (symbol.module) frame.module = symbol.module->path;
            if (symbol.source) {
                frame.file = symbol.source->file;
                frame.line = symbol.source->line;
            }
            frame.inlined = symbol.inlined;
            frames.push_back(std::move(frame));
        }
        FrameReport& outermost = frames.back();
        if (native.is_signal_frame) outermost.note = "<signal handler called>";
        else if (native.found_by_frame_pointer) outermost.note = "(found by frame pointer, no CFI)";
    }
    return frames;
}

ThreadReport native_thread_report(const Thread& thread, SymbolMemo& symbols, const NativeStack& stack) {
    ThreadReport report;
    report.tid = thread.tid;
    report.name = thread.name;
    report.state = thread.state;
    if (thread.has_cpu_times) {
        report.cpu_user = thread.user_seconds;
        report.cpu_system = thread.system_seconds;
    }
    report.frames = symbolize_stack(symbols, stack);
    report.error = stack.error;
    return report;
}

std::vector<std::pair<std::string, std::string>> describe_target(const Target& target) {
    const ProcessInfo& process = target.process();
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("kind", target.kind() == TargetKind::Core ? "core" : "process");
    if (process.pid) out.emplace_back("pid", std::to_string(process.pid));
    if (process.namespace_pid) out.emplace_back("namespace_pid", std::to_string(process.namespace_pid));
    if (!process.name.empty()) out.emplace_back("name", process.name);
    if (!process.executable.empty()) out.emplace_back("executable", process.executable);
    if (!process.cmdline.empty()) out.emplace_back("cmdline", process.cmdline);
    out.emplace_back("threads", std::to_string(target.threads().size()));
    if (auto signal = target.signal(); signal && signal->signo) {
        out.emplace_back("signal", std::to_string(signal->signo));
        out.emplace_back("signal_code", std::to_string(signal->code));
        char address[32];
        std::snprintf(address, sizeof address, "0x%" PRIx64, signal->fault_address);
        out.emplace_back("fault_address", address);
    }
    return out;
}

std::vector<std::string> incomplete_stack_warnings(const Target& target, const std::vector<NativeStack>& stacks) {
    std::vector<std::string> warnings;
    for (const NativeStack& stack : stacks) {
        if (stack.error.empty() || stack.depth_limited) continue;
        const Thread* thread = target.thread(stack.tid);
        // Where the readable part ends: the outermost frame's stack pointer.
        uint64_t sp = !stack.frames.empty() ? stack.frames.back().sp : thread ? thread->regs.rsp : 0;
        char at[40] = "";
        if (sp) std::snprintf(at, sizeof at, " at 0x%" PRIx64, sp);
        warnings.push_back("thread " + std::to_string(stack.tid) + ": stack incomplete" + at + ": " + stack.error);
    }
    return warnings;
}

StackReport native_report(const Target& target, Symbolizer& symbols,
                          const std::vector<NativeStack>& stacks) {
    StackReport report;
    report.target = describe_target(target);
    report.warnings = target.warnings();
    for (const Module& m : symbols.modules())
        if (!m.debug_warning.empty()) report.warnings.push_back(m.debug_warning);
    for (auto& warning : incomplete_stack_warnings(target, stacks)) report.warnings.push_back(std::move(warning));
    report.threads.reserve(stacks.size());
    std::vector<uint64_t> pcs;
    for (const NativeStack& stack : stacks)
        for (const NativeFrame& frame : stack.frames) pcs.push_back(frame.pc);
    symbols.prepare(pcs);
    SymbolMemo memo(symbols);
    for (const NativeStack& stack : stacks) {
        const Thread* thread = target.thread(stack.tid);
        Thread fallback;
        fallback.tid = stack.tid;
        report.threads.push_back(native_thread_report(thread ? *thread : fallback, memo, stack));
    }
    return report;
}

StackReport native_stacks(Target& target, Symbolizer& symbols, Unwinder& unwinder, size_t max_depth) {
    return native_report(target, symbols, unwind_threads(target, unwinder, max_depth));
}

}  // namespace snag
