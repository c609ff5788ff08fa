// snag run [--on-crash analyze|dump|repl] [-o CORE] -- PROGRAM ARGS...: runs PROGRAM under snag's JIT
// crash capture; snag exits with the program's status (128+N when signal N killed it).
#include <iostream>

#include "control/jit.hpp"
#include "subcommands.hpp"

namespace snag::cli {

int jit_exit_status(const Expected<control::JitOutcome>& outcome) {
    if (!outcome) return report(outcome.error());
    if (outcome->signal != 0) return 128 + outcome->signal;
    return outcome->exit_code;
}

int run_repl(const TargetSpec& spec, const std::vector<std::string>& load_files, int select_tid);

// --on-crash: analyze, dump, or repl (the same REPL as `snag repl PID`, on the held process).
Expected<void> check_on_crash(control::JitOptions& options) {
    if (options.on_crash == "repl")
        options.repl = [](int pid, int tid) { run_repl(TargetSpec{std::to_string(pid), {}}, {}, tid); };
    else if (options.on_crash != "analyze" && options.on_crash != "dump")
        return fail("--on-crash takes analyze, dump or repl.");
    return {};
}

int cmd_run(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << "usage: snag run [--on-crash analyze|dump|repl] [-o CORE] -- PROGRAM ARGS...\n";
        return 0;
    }
    control::JitOptions options;
    options.on_crash = args.option("--on-crash", "analyze");
    options.core_path = args.option("-o");
    if (auto checked = check_on_crash(options); !checked) return report(checked.error());
    std::vector<std::string> argv = args.rest();
    if (!argv.empty() && argv.front() == "--") argv.erase(argv.begin());
    install_exit_handlers();
    return jit_exit_status(control::run_program(argv, options, std::cerr));
}

}  // namespace snag::cli
