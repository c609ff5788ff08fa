// snag dump: an ELF core of a live process, readable by gdb and eu-stack, with snag's paratext note.
#pragma once

#include <signal.h>

#include <optional>
#include <string>

#include "base/error.hpp"

namespace snag {

struct DumpOptions {
    std::string output;            // -o FILE
    double cpu_sample_seconds = 0.2;  // per-thread CPU sampling window before the stop
    bool holes = true;  // leave anonymous pages the process never touched out of the file (pagemap)
    // The signal that stopped the process (the JIT's crash, caught before snag held it): written as
    // NT_SIGINFO and as the current signal of thread signal_tid, whose NT_PRSTATUS comes first (gdb:
    // "Program terminated with signal SIGSEGV"). Without it, a signal pending at attach is used.
    std::optional<siginfo_t> siginfo;
    int signal_tid = 0;
};

struct DumpReport {
    size_t threads = 0;
    size_t segments = 0;
    uint64_t bytes_written = 0;  // memory copied into the core (holes excluded)
    uint64_t file_size = 0;      // apparent size, holes included
    double stopped_seconds = 0;  // how long the target was stopped
    double attach_seconds = 0;   // of which: stopping every thread and reading registers and maps
    double copy_seconds = 0;     // of which: copying memory into the file
    double write_seconds = 0;    // after resuming: headers, notes and unmapping the file
};

Expected<DumpReport> write_core(int pid, const DumpOptions& options);

}  // namespace snag
