// snag watch [--on-crash analyze|dump|repl] [-o CORE] PID: attaches and waits for PID to crash (JIT).
#include <iostream>

#include "control/jit.hpp"
#include "subcommands.hpp"

namespace snag::cli {

int jit_exit_status(const Expected<control::JitOutcome>& outcome);
Expected<void> check_on_crash(control::JitOptions& options);

int cmd_watch(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << "usage: snag watch [--on-crash analyze|dump|repl] [-o CORE] PID\n";
        return 0;
    }
    control::JitOptions options;
    options.on_crash = args.option("--on-crash", "analyze");
    options.core_path = args.option("-o");
    if (auto checked = check_on_crash(options); !checked) return report(checked.error());
    if (args.rest().size() != 1) return report(Error{"snag watch needs one PID."});
    int pid = std::atoi(args.rest()[0].c_str());
    if (pid <= 0) return report(Error{"snag watch needs a process id, not '" + args.rest()[0] + "'."});
    install_exit_handlers();
    return jit_exit_status(control::watch_process(pid, options, std::cerr));
}

}  // namespace snag::cli
