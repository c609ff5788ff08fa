#include "analyze_sampling.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "python/gc_census.hpp"
#include "python/runtime_discovery.hpp"
#include "python/threads.hpp"
#include "rules_pack.hpp"
#include "symbols/symbolizer.hpp"
#include "target/proc_fs.hpp"

namespace snag::cli {

namespace {

using Clock = std::chrono::steady_clock;

size_t count_fds(int pid) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(proc::pid_path(pid, "fd"), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

uint64_t rss_kb(int pid) {
    auto statm = proc::read_file(proc::pid_path(pid, "statm"));
    if (!statm) return 0;
    unsigned long long size = 0, resident = 0;
    if (std::sscanf(statm->c_str(), "%llu %llu", &size, &resident) != 2) return 0;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

// The most numerous types of a census, as a Lua table (a few hundred names at most).
std::string census_table(const python::GcCensus& c) {
    std::vector<std::pair<uint64_t, std::string>> top;
    for (const auto& [name, n] : c.by_type) top.emplace_back(n, name);
    std::sort(top.rbegin(), top.rend());
    if (top.size() > 400) top.resize(400);
    std::ostringstream out;
    out << "{objects=" << c.objects << ",complete=" << (c.complete ? "true" : "false") << ",ms=" << c.ms << ",types={";
    for (const auto& [n, name] : top) out << "[" << lua_quote(name) << "]=" << n << ",";
    out << "}}";
    return out.str();
}

// One Python stack sample: tid → frames (function, file, line), innermost first.
using StackSample = std::map<int, std::vector<python::PyFrame>>;

// The Python side of one process: the interpreter is found once while the process runs; each
// census or stack sample stops it only for the read.
class PythonProbe {
public:
    explicit PythonProbe(int pid) : pid_(pid) {
        TargetOptions running;
        running.non_blocking = true;
        auto target = open_target(std::to_string(pid), running);
        if (!target) { error_ = target.error().message; return; }
        target_ = std::move(*target);
        auto symbols = make_symbolizer(*target_, SymbolizerOptions{.source_lines = false});  // Python only
        if (!symbols) { error_ = symbols.error().message; return; }
        symbols_ = std::move(*symbols);
        python::DiscoveryOptions discovery;
        discovery.target_label = std::to_string(pid);
        auto runtime = python::find_python_runtime(*target_, *symbols_, discovery);
        if (!runtime) { error_ = runtime.error().message; return; }
        runtime_ = std::move(*runtime);
    }

    // A census as a Lua table; sets the error instead when the heap cannot be measured.
    std::optional<std::string> census() {
        if (!runtime_) return std::nullopt;
        auto stopped = attach_process(pid_, TargetOptions{});
        if (!stopped) { error_ = stopped.error().message; return std::nullopt; }
        auto counted = python::gc_census(**stopped, *runtime_);
        (*stopped)->detach();
        if (!counted) { error_ = counted.error().message; return std::nullopt; }
        return census_table(*counted);
    }

    // Every thread's Python frames (no locals, the innermost kMaxFrames), read in one short stop.
    std::optional<StackSample> stacks() {
        if (!runtime_) return std::nullopt;
        auto start = Clock::now();
        auto stopped = attach_process(pid_, TargetOptions{});
        if (!stopped) { error_ = stopped.error().message; return std::nullopt; }
        python::ReadOptions read;
        read.max_frames = kMaxFrames;
        auto state = python::read_python_state(**stopped, *runtime_, read);
        (*stopped)->detach();
        stopped_ms_ += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        StackSample sample;
        for (auto& t : state.threads)
            if (t.tid != 0) sample[t.tid] = std::move(t.stack.frames);
        return sample;
    }

    double stopped_ms() const { return stopped_ms_; }
    const std::string& error() const { return error_; }

private:
    static constexpr size_t kMaxFrames = 128;
    int pid_;
    std::unique_ptr<Target> target_;
    std::unique_ptr<Symbolizer> symbols_;
    std::optional<python::PythonRuntime> runtime_;
    std::string error_;
    double stopped_ms_ = 0;
};

std::string frames_table(const std::vector<python::PyFrame>& frames) {
    std::ostringstream out;
    out << "{";
    for (const auto& f : frames)
        out << "{[\"function\"]=" << lua_quote(f.function) << ",file=" << lua_quote(f.file) << ",line=" << f.line << "},";
    out << "}";
    return out.str();
}

// One process's CPU, runnable share and series over the interval.
struct ProcessSamples {
    int pid = 0;
    std::map<int, uint64_t> first, last;
    std::map<int, std::string> names;
    std::map<int, int> runnable;  // samples in which the thread was R (running or waiting for a CPU)
    std::ostringstream series;
    std::unique_ptr<PythonProbe> python;
    bool heap = false;
    std::vector<StackSample> stack_samples;
    bool stacks_failed = false;
    std::optional<std::string> heap_first, heap_last;
    Clock::time_point heap_first_at, heap_last_at;

    void read_cpu(std::map<int, uint64_t>& into) {
        for (int tid : proc::list_tasks(pid)) {
            if (auto st = proc::read_task_stat(pid, tid)) {
                into[tid] = st->utime_ticks + st->stime_ticks;
                names[tid] = st->comm;
            }
        }
    }

    void step(double t) {
        auto tasks = proc::list_tasks(pid);
        for (int tid : tasks)
            if (auto st = proc::read_task_stat(pid, tid); st && st->state == 'R') runnable[tid]++;
        series << "{t=" << t << ",rss_kb=" << rss_kb(pid) << ",fds=" << count_fds(pid)
               << ",threads=" << tasks.size() << "},";
    }

    std::string table(double elapsed, int samples) {
        std::ostringstream out;
        out << "{duration=" << elapsed << ",threads={";
        for (const auto& [tid, ticks] : last) {
            uint64_t before = first.count(tid) ? first[tid] : 0;
            out << "{tid=" << tid << ",name=" << lua_quote(names[tid])
                << ",cpu=" << proc::ticks_to_seconds(ticks - std::min(ticks, before))
                << ",runnable=" << static_cast<double>(runnable[tid]) / samples
                << ",new=" << (first.count(tid) ? "false" : "true") << "},";
        }
        out << "},series={" << series.str() << "}";
        if (heap) {
            if (heap_first && heap_last)
                out << ",heap={first=" << *heap_first << ",last=" << *heap_last << ",seconds="
                    << std::chrono::duration<double>(heap_last_at - heap_first_at).count() << "}";
            else
                out << ",heap={error=" << lua_quote(python->error()) << "}";
        }
        if (python && (stacks_failed || !stack_samples.empty())) out << ",stacks=" << stacks_table(samples);
        return out.str() + "}";
    }

    // The stack samples of the threads that used CPU or were runnable (the others do not spin).
    std::string stacks_table(int samples) {
        if (stacks_failed && stack_samples.empty()) return "{error=" + lua_quote(python->error()) + "}";
        std::ostringstream out;
        out << "{count=" << stack_samples.size() << ",stopped_ms=" << python->stopped_ms() << ",threads={";
        for (const auto& [tid, ticks] : last) {
            uint64_t before = first.count(tid) ? first[tid] : 0;
            if (ticks <= before && runnable[tid] * 10 < samples) continue;
            out << "[" << tid << "]={";
            for (const auto& sample : stack_samples)
                if (auto it = sample.find(tid); it != sample.end()) out << frames_table(it->second) << ",";
            out << "},";
        }
        out << "}}";
        return out.str();
    }

    void sample_stacks() {
        if (auto sample = python->stacks()) stack_samples.push_back(std::move(*sample));
        else stacks_failed = true;
    }
};

}  // namespace

std::map<int, std::string> sample_processes(const std::vector<int>& pids, const SampleOptions& options) {
    std::vector<std::unique_ptr<ProcessSamples>> procs;
    for (int pid : pids) {
        auto p = std::make_unique<ProcessSamples>();
        p->pid = pid;
        if (options.heap || options.stack_samples > 0) p->python = std::make_unique<PythonProbe>(pid);
        if (options.heap) {
            p->heap = true;
            p->heap_first_at = Clock::now();
            p->heap_first = p->python->census();
        }
        procs.push_back(std::move(p));
    }
    auto start = Clock::now();
    for (auto& p : procs) p->read_cpu(p->first);
    int steps = std::max(2, static_cast<int>(options.duration / 0.1));
    int stacks_taken = 0;
    for (int i = 0; i <= steps; ++i) {
        double t = std::chrono::duration<double>(Clock::now() - start).count();
        for (auto& p : procs) p->step(t);
        // Stack samples at the middles of stack_samples equal slices of the interval.
        if (stacks_taken < options.stack_samples && t >= options.duration * (stacks_taken + 0.5) / options.stack_samples) {
            for (auto& p : procs) p->sample_stacks();
            ++stacks_taken;
        }
        if (i < steps) std::this_thread::sleep_until(start + std::chrono::duration<double>(options.duration * (i + 1) / steps));
    }
    for (auto& p : procs) p->read_cpu(p->last);
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& p : procs) {
        if (!p->heap || !p->heap_first) continue;
        p->heap_last_at = Clock::now();
        p->heap_last = p->python->census();
    }
    std::map<int, std::string> out;
    for (auto& p : procs) out[p->pid] = p->table(elapsed, steps + 1);
    return out;
}

}  // namespace snag::cli
