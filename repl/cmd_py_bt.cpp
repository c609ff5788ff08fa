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
    bool dwarf = false;
};

struct Collected {
    python::PythonState state;
    std::vector<NativeStack> stacks;
    double stopped_ms = -1;  // how long a live target stayed stopped; -1 for cores
};

// Reads the interpreter and the native stacks it needs; the caller detaches right after.
void read_stopped(Target& target, Symbolizer& symbols, const python::PythonRuntime& runtime,
                  const PyBtOptions& options, Collected& out) {
    python::ReadOptions read;
    read.locals = options.locals;
    out.state = python::read_python_state(target, runtime, read);
    // Native stacks tell who waits for the GIL; the holder's is only needed for --native.
    auto unwinder = make_unwinder(target, symbols);
    for (const auto& thread : target.threads()) {
        bool holder = false;
        for (const auto& t : out.state.threads) holder = holder || (t.tid == thread.tid && t.holds_gil);
        if (holder && !options.native) continue;
        out.stacks.push_back(unwinder->unwind(thread, kDefaultMaxDepth));
    }
}

bool is_pid(const std::string& spec) {
    return !spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos;
}

void print(Target& target, Symbolizer& symbols, Collected& collected, const PyBtOptions& options) {
    std::map<int, std::vector<FrameReport>> native;
    for (const auto& stack : collected.stacks) native[stack.tid] = symbolize_stack(symbols, stack);
    for (auto& t : collected.state.threads) {
        auto it = native.find(t.tid);
        if (!t.holds_gil && it != native.end()) t.waiting_for_gil = python::native_stack_waits_for_gil(it->second);
    }
    python::PyReport report = python::build_py_report(collected.state, target.threads(),
                                                      options.native ? native : decltype(native){},
                                                      options.native);
    report.target = describe_target(target);
    if (collected.stopped_ms >= 0)
        report.target.emplace_back("stopped_ms", std::to_string(static_cast<int64_t>(collected.stopped_ms)));
    if (options.json) python::print_py_json(std::cout, report);
    else python::print_py_text(std::cout, report, options.verbose);
}

int run(const TargetSpec& spec, const PyBtOptions& options) {
    // Live: find the interpreter (symbols, DWARF) while the process runs, stop it only to read.
    bool two_phase = is_pid(spec.spec) && !spec.options.non_blocking;
    TargetOptions first_options = spec.options;
    first_options.non_blocking = first_options.non_blocking || two_phase;
    auto target = open_target(spec.spec, first_options);
    if (!target) return report(target.error());
    auto symbols = make_symbolizer(**target);
    if (!symbols) return report(symbols.error());
    python::DiscoveryOptions discovery;
    discovery.target_label = spec.spec;
    discovery.prefer_dwarf = options.dwarf;
    auto runtime = python::find_python_runtime(**target, **symbols, discovery);
    if (!runtime) {
        (*target)->detach();
        return report(runtime.error());
    }
    Collected collected;
    if (!two_phase) {
        read_stopped(**target, **symbols, *runtime, options, collected);
        (*target)->detach();
        print(**target, **symbols, collected, options);
        return 0;
    }
    auto start = std::chrono::steady_clock::now();
    auto stopped = attach_process(std::stoi(spec.spec), spec.options);
    if (!stopped) return report(stopped.error());
    read_stopped(**stopped, **symbols, *runtime, options, collected);
    (*stopped)->detach();
    collected.stopped_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    print(**stopped, **symbols, collected, options);
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
    options.dwarf = args.flag("--dwarf-layout");
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    if (options.children) return report(Error{"--children is not supported yet by py-bt", 2});
    return run(*spec, options);
}

}  // namespace snag::cli
