// signals: gdb's `handle SIG stop|nostop|print|noprint|pass|nopass` table for a controlled process.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace snag::control {

struct SignalPolicy {
    bool stop = true;
    bool print = true;
    bool pass = true;
};

class SignalTable {
public:
    SignalTable();
    const SignalPolicy& policy(int signo) const;
    // Applies "stop", "nostop", "pass", "nopass", "print", "noprint" (gdb's implications: stop
    // implies print, noprint implies nostop). SIG may be a name (SIGUSR1, USR1) or a number.
    Expected<void> handle(std::string_view signal, const std::vector<std::string>& actions);
    // gdb's table lines: "Signal Stop Print Pass to program Description".
    std::string describe(int signo) const;
    static std::string name(int signo);
    static Expected<int> parse(std::string_view signal);

private:
    std::vector<SignalPolicy> policies_;
};

}  // namespace snag::control
