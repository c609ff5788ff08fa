// signal_names: the names of signals and of their si_code values (Linux x86_64), and which
// siginfo fields a given code fills: a fault's address, or the sender's pid and uid.
#pragma once

#include <signal.h>

#include <optional>
#include <string>

namespace snag {

class Target;

// "SIGSEGV"; "SIG42" for numbers without a name.
std::string signal_name(int signo);
// "SEGV_MAPERR", "SI_USER", "SI_TKILL"...; "" when the code has no name for this signal.
std::string signal_code_name(int signo, int code);
// True when the kernel raised it for a faulting instruction (si_addr is meaningful).
bool signal_is_fault(int signo, int code);
// True when a process sent it (kill, tgkill, sigqueue): si_pid and si_uid are meaningful.
bool signal_has_sender(int code);
// The target's siginfo as the kernel gave it (a core's NT_SIGINFO, a live PTRACE_GETSIGINFO).
std::optional<siginfo_t> raw_siginfo(const Target& target);
// The uid of the process that sent the target's signal, -1 when none did or it is unknown.
int signal_sender_uid(const Target& target);

}  // namespace snag
