// Signal and si_code names (include/uapi/asm-generic/siginfo.h), so rules can say how a signal came.
#include "target/signal_names.hpp"

#include <csignal>
#include <cstring>

#include "target/core_target.hpp"
#include "target/process_target.hpp"

namespace snag {
namespace {

const char* kGeneric(int code) {
    switch (code) {
        case 0: return "SI_USER";
        case 0x80: return "SI_KERNEL";
        case -1: return "SI_QUEUE";
        case -2: return "SI_TIMER";
        case -3: return "SI_MESGQ";
        case -4: return "SI_ASYNCIO";
        case -5: return "SI_SIGIO";
        case -6: return "SI_TKILL";
        case -7: return "SI_DETHREAD";
        case -60: return "SI_ASYNCNL";
        default: return nullptr;
    }
}

// Codes > 0 of one signal, numbered from 1.
const char* pick(int code, std::initializer_list<const char*> names) {
    if (code < 1 || code > static_cast<int>(names.size())) return nullptr;
    return names.begin()[code - 1];
}

}  // namespace

std::string signal_name(int signo) {
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    const char* abbrev = ::sigabbrev_np(signo);
    return abbrev ? std::string("SIG") + abbrev : "SIG" + std::to_string(signo);
}

std::string signal_code_name(int signo, int code) {
    if (const char* generic = kGeneric(code)) return generic;
    const char* name = nullptr;
    switch (signo) {
        case SIGSEGV:
            name = pick(code, {"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI",
                               "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"});
            break;
        case SIGBUS:
            name = pick(code, {"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"});
            break;
        case SIGFPE:
            name = code == 14 ? "FPE_FLTUNK" : code == 15 ? "FPE_CONDTRAP"
                 : pick(code, {"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES",
                               "FPE_FLTINV", "FPE_FLTSUB"});
            break;
        case SIGILL:
            name = pick(code, {"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG",
                               "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"});
            break;
        case SIGTRAP: name = pick(code, {"TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK"}); break;
        case SIGCHLD:
            name = pick(code, {"CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"});
            break;
        case SIGSYS: name = pick(code, {"SYS_SECCOMP", "SYS_USER_DISPATCH"}); break;
        default: break;
    }
    return name ? name : "";
}

bool signal_is_fault(int signo, int code) {
    bool fault_signal = signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP;
    return fault_signal && code > 0 && code != 0x80;
}

bool signal_has_sender(int code) { return code == 0 || code == -1 || code == -3 || code == -6; }

std::optional<siginfo_t> raw_siginfo(const Target& target) {
    if (const auto* core = dynamic_cast<const CoreTarget*>(&target)) return core->siginfo();
    if (const auto* live = dynamic_cast<const ProcessTarget*>(&target)) return live->siginfo();
    return std::nullopt;
}

int signal_sender_uid(const Target& target) {
    if (const auto* core = dynamic_cast<const CoreTarget*>(&target)) return core->signal_sender_uid();
    if (const auto* live = dynamic_cast<const ProcessTarget*>(&target)) return live->signal_sender_uid();
    return -1;
}

}  // namespace snag
