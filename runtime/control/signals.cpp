#include "control/signals.hpp"

#include <signal.h>
#include <string.h>

#include <cstdio>

namespace snag::control {
namespace {

constexpr int kMaxSignal = 65;

struct Named {
    int signo;
    const char* name;
};
constexpr Named kNames[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},     {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"}, {SIGSTKFLT, "SIGSTKFLT"},
    {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},     {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},
    {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},
    {SIGIO, "SIGIO"},     {SIGPWR, "SIGPWR"},       {SIGSYS, "SIGSYS"},
};

}  // namespace

SignalTable::SignalTable() : policies_(kMaxSignal) {
    // gdb's defaults: routine signals neither stop nor print, but reach the program.
    for (int quiet : {SIGALRM, SIGURG, SIGCHLD, SIGWINCH, SIGIO, SIGVTALRM, SIGPROF, SIGPWR})
        policies_[quiet] = {false, false, true};
    for (int rt = SIGRTMIN; rt <= SIGRTMAX && rt < kMaxSignal; ++rt) policies_[rt] = {false, false, true};
    policies_[SIGINT].pass = false;
    policies_[SIGTRAP].pass = false;
}

const SignalPolicy& SignalTable::policy(int signo) const {
    static const SignalPolicy fallback;
    return signo > 0 && signo < kMaxSignal ? policies_[signo] : fallback;
}

std::string SignalTable::name(int signo) {
    for (const auto& n : kNames)
        if (n.signo == signo) return n.name;
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) return "SIG" + std::to_string(signo);
    return "signal " + std::to_string(signo);
}

Expected<int> SignalTable::parse(std::string_view signal) {
    std::string text(signal);
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::stoi(text);
        if (n > 0 && n < kMaxSignal) return n;
        return fail("Only signals 1-64 are valid as numeric signals.");
    }
    std::string upper;
    for (char c : text) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    if (upper.rfind("SIG", 0) != 0) upper = "SIG" + upper;
    for (const auto& n : kNames)
        if (upper == n.name) return n.signo;
    return fail("Unrecognized or ambiguous flag word: \"" + text + "\".");
}

Expected<void> SignalTable::handle(std::string_view signal, const std::vector<std::string>& actions) {
    auto signo = parse(signal);
    if (!signo) return std::unexpected(signo.error());
    if (actions.empty()) return fail("Argument required (signal and the actions to apply).");
    SignalPolicy& p = policies_[*signo];
    for (const auto& a : actions) {
        if (a == "stop") p.stop = p.print = true;
        else if (a == "nostop") p.stop = false;
        else if (a == "print") p.print = true;
        else if (a == "noprint") p.print = p.stop = false;
        else if (a == "pass" || a == "noignore") p.pass = true;
        else if (a == "nopass" || a == "ignore") p.pass = false;
        else return fail("Unrecognized or ambiguous flag word: \"" + a + "\".");
    }
    return {};
}

std::string SignalTable::describe(int signo) const {
    const auto& p = policy(signo);
    char line[160];
    std::snprintf(line, sizeof line, "%-14s%-8s%-8s%-16s%s", name(signo).c_str(), p.stop ? "Yes" : "No",
                  p.print ? "Yes" : "No", p.pass ? "Yes" : "No", ::strsignal(signo));
    return line;
}

}  // namespace snag::control
