// process_attach: stopping every thread of a live process with PTRACE_SEIZE + PTRACE_INTERRUPT,
// and explaining, in one sentence with a remedy, why a process cannot be attached.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "target/proc_fs.hpp"

namespace snag {

struct AttachedThread {
    int tid = 0;
    proc::Stat stat;         // read just before the thread was stopped (its state while running)
    bool traced = false;     // false: listed but not attachable (an exited, zombie thread leader)
    bool group_stopped = false;  // it was already stopped by a job-control signal
    int pending_signal = 0;  // a signal caught in signal-delivery-stop: re-delivered on detach
};

// Checks made before touching the process: it exists, is not snag, not a zombie, not a kernel
// thread, is x86_64, and (when tracing) has no other tracer. Returns the thread-group id to use
// (a TID given for pid resolves to its process) and may add warnings.
Expected<int> check_attachable(int pid, bool will_trace, std::vector<std::string>& warnings);

// Seizes and interrupts every thread, re-reading /proc/PID/task until no new TID appears, and
// waits until each is in a ptrace-stop. Every traced TID is in the attach registry on return; on
// error nothing stays attached.
Expected<std::vector<AttachedThread>> stop_all_threads(int pid, std::vector<std::string>& warnings);

// Threads as /proc lists them, without stopping anything (non-blocking mode).
std::vector<AttachedThread> list_threads_running(int pid);

// Resumes and forgets one traced thread (re-delivering its pending signal). Idempotent.
void release_thread(const AttachedThread& thread);

// Why PTRACE_SEIZE of pid failed with errno `error`, as a user-facing sentence.
Error explain_attach_failure(int pid, int error);

}  // namespace snag
