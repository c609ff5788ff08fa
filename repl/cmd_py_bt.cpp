// snag py-bt: Python stacks of every thread (gdb's py-bt for all threads), optionally merged
// with the native stacks, with locals, as text or JSON.
#include <chrono>
#include <iostream>
#include <map>

#include "cli.hpp"
#include "python/merge.hpp"
#include "python/py_report.hpp"
#include "python/runtime_discovery.hpp"
#include "python/threads.hpp"
#include "report/native_stacks.hpp"
#include "subcommands.hpp"
#include "symbols/symbolizer.hpp"
#include "unwind/unwinder.hpp"

namespace snag::cli {
namespace {

struct PyBtOptions {
    bool native = false, locals = false, json = false, verbose = false, children = false;
};

struct Collected {
    python::PythonState state;
    std::vector<NativeStack> stacks;
    double stopped_ms = 0;  // how long a live target stayed stopped
};

// Everything that needs target memory, done before a live target is let go.
Expected<Collected> collect(Target& target, Symbolizer& symbols, const std::string& label,
                            const PyBtOptions& options) {
    auto start = std::chrono::steady_clock::now();
    auto runtime = python::find_python_runtime(target, symbols, label);
    if (!runtime) return std::unexpected(runtime.error());
    Collected out;
    python::ReadOptions read;
    read.locals = options.locals;
    out.state = python::read_python_state(target, *runtime, read);
    // Native stacks tell who waits for the GIL; unwind only threads that do not hold it,
    // unless the merged view needs them all.
    auto unwinder = make_unwinder(target, symbols);
    for (const auto& thread : target.threads()) {
        bool holder = false;
        for (const auto& t : out.state.threads) holder = holder || (t.tid == thread.tid && t.holds_gil);
        if (holder && !options.native) continue;
        out.stacks.push_back(unwinder->unwind(thread, kDefaultMaxDepth));
    }
    target.detach();
    out.stopped_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

int run(const TargetSpec& spec, const PyBtOptions& options) {
    auto target = open_target(spec.spec, spec.options);
    if (!target) return report(target.error());
    auto symbols = make_symbolizer(**target);
    if (!symbols) {
        (*target)->detach();
        return report(symbols.error());
    }
    auto collected = collect(**target, **symbols, spec.spec, options);
    if (!collected) {
        (*target)->detach();
        return report(collected.error());
    }
    std::map<int, std::vector<FrameReport>> native;
    for (const auto& stack : collected->stacks) native[stack.tid] = symbolize_stack(**symbols, stack);
    for (auto& t : collected->state.threads) {
        auto it = native.find(t.tid);
        if (!t.holds_gil && it != native.end()) t.waiting_for_gil = python::native_stack_waits_for_gil(it->second);
    }
    python::PyReport report = python::build_py_report(collected->state, (*target)->threads(),
                                                      options.native ? native : decltype(native){},
                                                      options.native);
    report.target = describe_target(**target);
    report.target.emplace_back("stopped_ms", std::to_string(static_cast<int64_t>(collected->stopped_ms)));
    if (options.json) python::print_py_json(std::cout, report);
    else python::print_py_text(std::cout, report, options.verbose);
    return 0;
}

}  // namespace

int cmd_py_bt(Args& args) {
    PyBtOptions options;
    options.native = args.flag("--native");
    options.locals = args.flag("--locals");
    options.json = args.flag("--json");
    options.verbose = args.flag("--verbose") || args.flag("-v");
    options.children = args.flag("--children");
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    if (options.children) return report(Error{"--children is not supported yet by py-bt", 2});
    return run(*spec, options);
}

}  // namespace snag::cli
