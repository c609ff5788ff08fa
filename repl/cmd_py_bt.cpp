// snag py-bt: Python stacks of every thread (gdb's py-bt for all threads), optionally merged
// with the native stacks, with locals, as text or JSON; --tasks adds the asyncio await tree.
// snag tasks: the asyncio tasks alone, as a table or JSON.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "python/merge.hpp"
#include "python/process_tree.hpp"
#include "python/py_report.hpp"
#include "python/runtime_discovery.hpp"
#include "python/task_report.hpp"
#include "python/tasks.hpp"
#include "python/threads.hpp"
#include "report/json_text.hpp"
#include "report/native_stacks.hpp"
#include "subcommands.hpp"
#include "symbols/symbolizer.hpp"
#include "target/proc_fs.hpp"
#include "target/snapshot_target.hpp"
#include "unwind/unwinder.hpp"

namespace snag::cli {
namespace {

struct PyBtOptions {
    bool native = false, locals = false, json = false, verbose = false, children = false;
    bool dwarf = false, positions = false;
    bool tasks = false;        // read the asyncio tasks too
    bool table = false;        // snag tasks: the tasks alone
    python::ReprLimits limits;  // --max-value CHARS, --max-items N
};

struct Collected {
    python::PythonState state;
    python::AsyncState tasks;
    std::vector<NativeStack> stacks;
    double stopped_ms = -1;  // how long a live target stayed stopped; -1 for cores
    int stops = 0;           // how many times (snag tasks copies pages in short stops)
};

// Reads the interpreter and the native stacks it needs; the caller detaches right after.
void read_stopped(Target& target, Symbolizer& symbols, const python::PythonRuntime& runtime,
                  const PyBtOptions& options, Collected& out) {
    python::ReadOptions read;
    read.locals = options.locals;
    read.limits = options.limits;
    out.state = python::read_python_state(target, runtime, read);
    if (options.tasks) out.tasks = python::read_async_tasks(target, runtime, &out.state, &symbols);
    if (options.table) return;  // the table needs no native stacks: keep a live loop's stop short
    // Native stacks tell who waits for the GIL; the holder's is only needed for --native.
    auto unwinder = make_unwinder(target, symbols);
    for (const auto& thread : target.threads()) {
        bool holder = false;
        for (const auto& t : out.state.threads) holder = holder || (t.tid == thread.tid && t.holds_gil);
        if (holder && !options.native && !out.state.gc_collecting) continue;
        out.stacks.push_back(unwinder->unwind(thread, kDefaultMaxDepth));
    }
}

// ELF symbol names only, innermost frames up to the eval loop: enough to spot take_gil & co.;
// whole: every frame, for the collector under a finalizer. Lookups are memoized by pc (thread
// stacks repeat the same return addresses).
std::vector<FrameReport> function_names(Symbolizer& symbols, const NativeStack& stack,
                                        std::unordered_map<uint64_t, std::string>& memo, bool whole) {
    std::vector<FrameReport> frames;
    for (size_t i = 0; i < stack.frames.size(); ++i) {
        FrameReport f;
        f.pc = stack.frames[i].pc;
        uint64_t at = i == 0 ? f.pc : f.pc - 1;
        auto it = memo.find(at);
        if (it == memo.end()) {
            auto sym = symbols.symbol_at(at);
            it = memo.emplace(at, sym ? sym->first : "").first;
        }
        f.function = it->second;
        frames.push_back(std::move(f));
        if (!whole && python::is_eval_loop(frames.back().function)) break;
    }
    return frames;
}

bool is_pid(const std::string& spec) {
    return !spec.empty() && spec.find_first_not_of("0123456789") == std::string::npos;
}

// What one process printed, and the key that groups processes with identical stacks.
struct Printed {
    std::string text;
    std::string stacks_key;
    size_t python_frames = 0;
    int files_astray = 0;  // the target's files missing here or differing (warned on stderr)
};

std::string stacks_key(const python::PyReport& report) {
    std::vector<std::string> threads;
    for (const auto& t : report.threads) {
        std::string key = t.status + "\n";
        for (const auto& f : t.frames) key += f.function + "|" + f.file + "|" + std::to_string(f.line) + "\n";
        threads.push_back(std::move(key));
    }
    std::sort(threads.begin(), threads.end());
    std::string all;
    for (const auto& k : threads) all += k + "\n";
    return all;
}

// snag tasks: the target line, then the table (or one JSON document).
Printed print_tasks(Target& target, const Collected& collected, const PyBtOptions& options) {
    std::ostringstream out;
    auto described = describe_target(target);
    if (collected.stopped_ms >= 0) {
        described.emplace_back("stopped_ms", std::to_string(static_cast<int64_t>(collected.stopped_ms)));
        described.emplace_back("stops", std::to_string(collected.stops));
    }
    if (options.json) {
        nlohmann::json doc;
        doc["target"] = nlohmann::json::object();
        for (const auto& [key, value] : described) doc["target"][key] = value;
        doc["python"] = {{"version", collected.state.version}};
        doc["asyncio"] = python::tasks_json(collected.tasks, collected.state);
        out << json_text(doc) << '\n';
    } else {
        python::print_task_table(out, collected.tasks, collected.state);
    }
    return {out.str(), ""};
}

Printed print(Target& target, Symbolizer& symbols, Collected& collected, const PyBtOptions& options) {
    if (options.table) return print_tasks(target, collected, options);
    std::map<int, std::vector<FrameReport>> native;
    std::unordered_map<uint64_t, std::string> memo;
    for (const auto& stack : collected.stacks)
        native[stack.tid] = options.native ? symbolize_stack(symbols, stack)
                                           : function_names(symbols, stack, memo, collected.state.gc_collecting);
    python::mark_collecting_threads(collected.state, native);
    for (auto& t : collected.state.threads) {
        auto it = native.find(t.tid);
        if (!collected.state.gil_disabled && !t.holds_gil && it != native.end()) t.waiting_for_gil = python::native_stack_waits_for_gil(it->second);
    }
    python::PyReport report = python::build_py_report(collected.state, target.threads(),
                                                      options.native ? native : decltype(native){},
                                                      options.native);
    report.target = describe_target(target);
    if (collected.stopped_ms >= 0) {
        report.target.emplace_back("stopped_ms", std::to_string(static_cast<int64_t>(collected.stopped_ms)));
        report.target.emplace_back("stops", std::to_string(collected.stops));
    }
    std::ostringstream out;
    if (options.json) python::print_py_json(out, report);
    else python::print_py_text(out, report, options.verbose, options.positions);
    if (options.tasks && options.json) {  // one document: py-bt's, with the tasks under "asyncio"
        nlohmann::json doc = nlohmann::json::parse(out.str(), nullptr, false);
        doc["asyncio"] = python::tasks_json(collected.tasks, collected.state);
        out.str("");
        out << json_text(doc) << '\n';
    } else if (options.tasks) {
        out << '\n';
        python::print_task_tree(out, collected.tasks, collected.state);
    }
    size_t frames = 0;
    for (const auto& t : collected.state.threads) frames += t.stack.frames.size();
    return {out.str(), stacks_key(report), frames, target.files_missing_or_different()};
}

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// snag tasks and py-bt --tasks, live: the walk runs once on the running process to learn which
// pages it reads, then on copies of those pages (and of each thread's innermost stack, for the
// native unwind) made during a short stop (target/snapshot_target.hpp). A walk that needs pages
// the copy lacks is redone on a new copy with them; after kSnapshotRounds the caller falls back
// to reading while stopped. collected.stopped_ms adds up the stops.
constexpr int kSnapshotRounds = 3;

std::unique_ptr<Target> read_from_snapshots(Target& running, int pid, const TargetOptions& attach, Symbolizer& symbols,
                                            const python::PythonRuntime& runtime, const PyBtOptions& options,
                                            Collected& out) {
    RecordingTarget recording(running);
    Collected warm;
    read_stopped(recording, symbols, runtime, options, warm);
    std::set<uint64_t> pages = recording.pages();
    double stopped_ms = 0;
    for (int round = 0; round < kSnapshotRounds; ++round) {
        auto start = std::chrono::steady_clock::now();
        auto stopped = attach_process(pid, attach);
        if (!stopped) return nullptr;
        auto snap = std::make_unique<SnapshotTarget>(std::move(*stopped), pid, pages);
        snap->detach();
        stopped_ms += ms_since(start);
        Collected collected;
        read_stopped(*snap, symbols, runtime, options, collected);
        if (snap->misses().empty()) {
            out = std::move(collected);
            out.stopped_ms = stopped_ms;
            out.stops = round + 1;
            return snap;
        }
        pages.insert(snap->misses().begin(), snap->misses().end());
    }
    out.stopped_ms = stopped_ms;  // the caller's full stop adds to these
    out.stops = kSnapshotRounds;
    return nullptr;
}

Expected<Printed> run(const TargetSpec& spec, const PyBtOptions& options) {
    // Live: find the interpreter (symbols, DWARF) while the process runs, stop it only to read.
    bool two_phase = is_pid(spec.spec) && !spec.options.non_blocking;
    TargetOptions first_options = spec.options;
    first_options.non_blocking = first_options.non_blocking || two_phase;
    auto target = open_target(spec.spec, first_options);
    if (!target) return std::unexpected(target.error());
    auto symbols = make_symbolizer(**target, SymbolizerOptions{.source_lines = options.native});
    if (!symbols) return std::unexpected(symbols.error());
    print_target_warnings(**target, spec.options, two_phase);
    python::DiscoveryOptions discovery;
    discovery.target_label = spec.spec;
    discovery.prefer_dwarf = options.dwarf;
    auto runtime = python::find_python_runtime(**target, **symbols, discovery);
    if (!runtime) {
        (*target)->detach();
        return std::unexpected(runtime.error());
    }
    Collected collected;
    if (two_phase && options.tasks && !options.native) {
        if (auto snap = read_from_snapshots(**target, std::stoi(spec.spec), spec.options, **symbols, *runtime, options, collected))
            return print(*snap, **symbols, collected, options);
    }
    if (!two_phase) {
        read_stopped(**target, **symbols, *runtime, options, collected);
        (*target)->detach();
        return print(**target, **symbols, collected, options);
    }
    auto start = std::chrono::steady_clock::now();
    auto stopped = attach_process(std::stoi(spec.spec), spec.options);
    if (!stopped) return std::unexpected(stopped.error());
    read_stopped(**stopped, **symbols, *runtime, options, collected);
    (*stopped)->detach();
    collected.stopped_ms = std::max(collected.stopped_ms, 0.0) + ms_since(start);
    collected.stops += 1;
    return print(**stopped, **symbols, collected, options);
}

// --children: the process and every descendant, processes with identical stacks printed once.
int run_tree(const TargetSpec& spec, const PyBtOptions& options) {
    if (!is_pid(spec.spec)) return report(Error{"--children needs a live PID, not a core file", 2});
    int root = std::stoi(spec.spec);
    std::vector<int> pids{root};
    for (int child : python::descendant_pids(root)) pids.push_back(child);
    struct Group {
        std::vector<int> pids;
        std::string text;
    };
    std::vector<Group> groups;
    std::map<std::string, size_t> by_key;
    for (int pid : pids) {
        TargetSpec one = spec;
        one.spec = std::to_string(pid);
        auto printed = run(one, options);
        std::string text = printed ? printed->text : "";
        std::string key = printed ? printed->stacks_key : "error:" + printed.error().message;
        if (!printed) {
            text = options.json ? json_text(nlohmann::json({{"error", printed.error().message}}), -1)
                                : "snag: " + printed.error().message + "\n";
        }
        auto [it, fresh] = by_key.emplace(key, groups.size());
        if (fresh) groups.push_back({{}, text});
        groups[it->second].pids.push_back(pid);
    }
    if (options.json) {
        nlohmann::json processes = nlohmann::json::array();
        for (const auto& g : groups) {
            nlohmann::json doc = nlohmann::json::parse(g.text, nullptr, false);
            doc["pid"] = g.pids.front();
            doc["count"] = g.pids.size();
            doc["pids"] = g.pids;
            processes.push_back(std::move(doc));
        }
        std::cout << json_text(nlohmann::json({{"processes", processes}})) << '\n';
        return 0;
    }
    for (const auto& g : groups) {
        std::string cmdline = proc::join_cmdline(proc::read_file(proc::pid_path(g.pids.front(), "cmdline")).value_or(""));
        std::cout << "=== Process " << g.pids.front() << " (" << cmdline << ")";
        auto stat_text = proc::read_file(proc::pid_path(g.pids.front(), "stat"));
        if (auto stat = stat_text ? proc::parse_stat(*stat_text) : std::nullopt) {
            char cpu[64];
            std::snprintf(cpu, sizeof cpu, " state %c, cpu %.2fs", stat->state,
                          proc::ticks_to_seconds(stat->utime_ticks + stat->stime_ticks));
            std::cout << cpu;
        }
        if (g.pids.size() > 1) {
            std::cout << " and " << g.pids.size() - 1 << " more with identical stacks:";
            for (size_t i = 1; i < g.pids.size(); ++i) std::cout << ' ' << g.pids[i];
        }
        std::cout << "\n" << g.text << '\n';
    }
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
    options.tasks = args.flag("--tasks");
    options.positions = args.flag("--positions");
    for (auto [name, field] : {std::pair{"--max-value", &options.limits.total_chars},
                               std::pair{"--max-items", &options.limits.items}}) {
        std::string value = args.option(name);
        if (value.empty()) continue;
        char* end = nullptr;
        unsigned long n = std::strtoul(value.c_str(), &end, 10);
        if (*end || n == 0 || value[0] == '-') return report(Error{std::string(name) + " takes a positive number, not '" + value + "'", 2});
        *field = n;
    }
    options.limits.string_chars = std::min(options.limits.string_chars, options.limits.total_chars);
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    if (options.children) return run_tree(*spec, options);
    auto printed = run(*spec, options);
    if (!printed) return report(printed.error());
    std::cout << printed->text;
    if (printed->python_frames == 0 && printed->files_astray) {
        std::cout.flush();
        return report(Error{"no Python frame could be read: " + std::to_string(printed->files_astray) +
                            " of the target's files are missing or differ (see the warnings above)", 2});
    }
    return 0;
}

int cmd_tasks(Args& args) {
    PyBtOptions options;
    options.json = args.flag("--json");
    options.dwarf = args.flag("--dwarf-layout");
    options.tasks = options.table = true;
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    auto printed = run(*spec, options);
    if (!printed) return report(printed.error());
    std::cout << printed->text;
    return 0;
}

}  // namespace snag::cli
