// Counter Value for `snag analyze` on live targets: per-thread CPU, RSS, fds, thread counts and
// (for CPython) the GC-tracked objects per type, sampled over --duration while the processes run.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace snag::cli {

struct SampleOptions {
    double duration = 1.0;
    bool heap = true;      // count Python objects per type at the start and the end (two short stops)
    int stack_samples = 0;  // Python stacks read this many times, spread over the interval (a short stop each)
};

// pid → a Lua table constructor {duration, threads = {{tid, name, cpu, runnable, new}},
// series = {{t, rss_kb, fds, threads}}, heap = {first, last, seconds} or {error},
// stacks = {count, stopped_ms, threads = {[tid] = {frames, ...}}} or {error}}. stacks holds the
// threads that used CPU or were runnable, each sample's frames innermost first. All the
// processes are sampled over the same interval, so their CPU figures compare.
std::map<int, std::string> sample_processes(const std::vector<int>& pids, const SampleOptions& options);

}  // namespace snag::cli
