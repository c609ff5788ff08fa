// snag bt: native stacks of every thread, like gdb's `thread apply all bt` or eu-stack.
// A live target is stopped only while its stacks are walked; symbols come from files afterwards.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "report/frame_args.hpp"
#include "report/native_stacks.hpp"
#include "subcommands.hpp"
#include "symbols/symbolizer.hpp"
#include "unwind/unwinder.hpp"

namespace snag::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

size_t frame_count(const std::vector<NativeStack>& stacks) {
    size_t n = 0;
    for (const auto& s : stacks) n += s.frames.size();
    return n;
}

std::vector<uint64_t> all_pcs(const std::vector<NativeStack>& stacks) {
    std::vector<uint64_t> pcs;
    for (const auto& s : stacks)
        for (const auto& f : s.frames) pcs.push_back(f.pc);
    return pcs;
}

}  // namespace

int cmd_bt(Args& args) {
    bool json = args.flag("--json");
    bool stats = args.flag("--stats");
    bool no_args = args.flag("--no-args");
    auto spec = take_target(args);
    if (!spec) return report(spec.error());

    auto opened = Clock::now();
    auto target = open_target(spec->spec, spec->options);
    if (!target) return report(target.error());
    Target& t = **target;
    double open_ms = ms_since(opened);
    // The symbolizer records modules and build-ids from target memory: build it before detaching.
    auto symbols = make_symbolizer(t, SymbolizerOptions{.source_lines = true, .location_lists = !no_args});
    if (!symbols) {
        t.detach();
        return report(symbols.error());
    }
    auto unwinder = make_unwinder(t, **symbols);
    auto unwind_start = Clock::now();
    std::vector<NativeStack> stacks = unwind_threads(t, *unwinder);
    double unwind_ms = ms_since(unwind_start);
    t.detach();
    double stopped_ms = ms_since(opened);

    auto symbolize_start = Clock::now();
    (*symbols)->prepare(all_pcs(stacks));  // native_report would too; here it is timed on its own
    double debug_ms = ms_since(symbolize_start);
    StackReport stack_report = native_report(t, **symbols, stacks);
    // Live: the threads run again; values kept in registers are those of the stop, values on the
    // stack are read now (a blocked thread's frames do not change).
    if (!no_args) add_frame_args(t, **symbols, stacks, stack_report);
    if (t.kind() == TargetKind::Core) stack_report.target.emplace_back("core", spec->spec);
    else stack_report.target.emplace_back("stopped_ms", std::to_string(int64_t(stopped_ms)));
    double symbolize_ms = ms_since(symbolize_start);

    print_target_warnings(t, spec->options);
    for (const auto& warning : incomplete_stack_warnings(t, stacks)) std::fprintf(stderr, "snag: warning: %s\n", warning.c_str());
    if (json) print_stacks_json(std::cout, stack_report);
    else print_stacks_text(std::cout, stack_report);
    std::cout.flush();
    if (stats) {
        std::fprintf(stderr,
                     "snag: %zu threads, %zu frames; open+modules+unwind %.1f ms (open %.1f ms, "
                     "unwind %.1f ms)%s, symbolize %.1f ms (loading debug info %.1f ms)\n",
                     stacks.size(), frame_count(stacks), stopped_ms, open_ms, unwind_ms,
                     t.kind() == TargetKind::Process ? " with the process stopped" : "", symbolize_ms,
                     debug_ms);
    }
    return 0;
}

}  // namespace snag::cli
