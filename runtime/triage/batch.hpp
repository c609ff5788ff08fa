// Runs independent jobs in worker processes, at most N at once: a job that crashes, hangs or
// exhausts memory ends alone (its status says how) and the batch goes on.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace snag::triage {

struct JobResult {
    size_t index = 0;
    int exit_code = -1;     // the child's exit status, -1 when it did not exit
    int signal = 0;         // the signal that ended it, 0 when it exited
    bool timed_out = false;
    std::string out, err;   // what it wrote to stdout and stderr
    double seconds = 0;
};

struct BatchOptions {
    int parallel = 1;
    double timeout_seconds = 300;   // per job
};

// work(i) runs in a forked child with stdout/stderr captured and returns its exit status;
// done(result) runs in this process as each child ends (in completion order). take(i), when
// given, runs in this process just before job i would start: false skips the job.
void run_batch(size_t count, const BatchOptions& options, const std::function<int(size_t)>& work,
               const std::function<void(JobResult&&)>& done, const std::function<bool(size_t)>& take = {});

}  // namespace snag::triage
