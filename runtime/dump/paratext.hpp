// paratext: what a core cannot say by itself, gathered from /proc before the process is stopped
// (status, command line, environment size, descriptors, thread names and CPU usage over a window).
#pragma once

#include <string>
#include <vector>

namespace snag::dump {

struct ThreadSample {
    int tid = 0;
    std::string name;
    char state = '?';
    double user_seconds = 0;   // at the end of the window
    double system_seconds = 0;
    double cpu_percent = 0;    // of one CPU, over the window
};

// Reads every thread's CPU times twice, window_seconds apart (0: once, no usage figure).
std::vector<ThreadSample> sample_threads(int pid, double window_seconds);

// The JSON text of snag's paratext note (format in docs/dump.md).
std::string build_paratext(int pid, const std::vector<ThreadSample>& threads, double window_seconds);

}  // namespace snag::dump
