// snag dump: an ELF core of a live process, readable by gdb and eu-stack, with snag's paratext note.
#pragma once

#include <string>

#include "base/error.hpp"

namespace snag {

struct DumpOptions {
    std::string output;            // -o FILE
    double cpu_sample_seconds = 0.2;  // per-thread CPU sampling window before the stop
};

struct DumpReport {
    size_t threads = 0;
    size_t segments = 0;
    uint64_t bytes_written = 0;
    double stopped_seconds = 0;  // how long the target was stopped
};

Expected<DumpReport> write_core(int pid, const DumpOptions& options);

}  // namespace snag
