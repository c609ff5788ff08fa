// jit: Just-In-Time crash capture (patterns.md JIT): run or watch a process under live control
// with every non-fatal signal passed through; at a fatal signal, print the crashing thread's
// stack, write a core with snag dump's extras, then let the signal kill the process.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "target/target.hpp"

namespace snag::control {

struct JitOptions {
    std::string on_crash = "analyze";  // analyze: stack + rules on a temporary core; dump: core kept; repl
    std::string core_path;             // default: ./core.snag.PID
    // on_crash "repl": the front end's REPL on the held process (crashing thread selected);
    // the fatal signal is delivered when it returns.
    std::function<void(int pid, int tid)> repl;
};

struct JitOutcome {
    bool crashed = false;
    int signal = 0;      // the fatal signal (crashed) or the killing signal
    int exit_code = 0;   // normal exit
    std::string core;    // written core, empty when none
};

// Starts argv stopped before exec, attaches, runs it to completion or crash.
Expected<JitOutcome> run_program(const std::vector<std::string>& argv, const JitOptions& options, std::ostream& out);
// Attaches to pid and watches it until it crashes or exits.
Expected<JitOutcome> watch_process(int pid, const JitOptions& options, std::ostream& out);

}  // namespace snag::control
