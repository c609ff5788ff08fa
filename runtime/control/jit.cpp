#include "control/jit.hpp"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <thread>

#include "control/controller.hpp"
#include "dump/dump.hpp"
#include "lua/session.hpp"
#include "target/proc_fs.hpp"
#include "target/process_target.hpp"

namespace snag::control {
namespace {

bool is_fatal(int signo) {
    return signo == SIGSEGV || signo == SIGABRT || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
           signo == SIGSYS;
}

// Only fatal signals stop; everything else reaches the program silently.
void pass_everything_else(Controller& controller) {
    for (int signo = 1; signo < 65; ++signo) {
        if (is_fatal(signo) || signo == SIGKILL || signo == SIGSTOP) continue;
        (void)controller.signals().handle(std::to_string(signo), {"nostop", "noprint", "pass"});
    }
}

void report_stack(std::unique_ptr<Target> target, int tid, std::ostream& out) {
    auto session = Session::open(std::move(target));
    if (!session) {
        out << "snag: cannot read the crashing thread's stack: " << session.error().message << "\n";
        return;
    }
    if (auto selected = (*session)->select_thread(tid); !selected) return;
    out << "Crashing thread " << tid << ":\n";
    if (auto shown = (*session)->run_command("bt", "", out); !shown)
        out << "snag: " << shown.error().message << "\n";
    // The session's target detaches when the session closes; live control already let go.
}

// The default rules pack over a core written at the signal (`snag analyze CORE` from this very
// binary): the core carries the crash's siginfo and faulting thread, which a live analysis of
// the held process could not see (it is in SIGSTOP by then).
void run_rules(const std::string& core, std::ostream& out) {
    out.flush();
    pid_t child = ::fork();
    if (child == 0) {
        ::dup2(STDERR_FILENO, STDOUT_FILENO);  // the JIT report goes to stderr; keep it together
        ::execl("/proc/self/exe", "snag", "analyze", core.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (child < 0) return;
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) out << "snag: the rules pack could not run.\n";
}

// Where the core goes: -o CORE or core.snag.PID when the user asked for it, else a temporary file.
std::string core_path(const JitOptions& options, int pid) {
    if (options.on_crash == "dump")
        return options.core_path.empty() ? "core.snag." + std::to_string(pid) : options.core_path;
    const char* tmp = ::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/snag-jit-" + std::to_string(pid) + "-XXXXXX";
    int fd = ::mkstemp(path.data());
    if (fd < 0) return {};
    ::close(fd);
    return path;
}

// Writes the core at the signal, then runs the pack on it (analyze mode) or keeps it (dump mode).
void capture(const JitOptions& options, int pid, int tid, const std::optional<siginfo_t>& info, JitOutcome& outcome,
             std::ostream& out) {
    DumpOptions dump;
    dump.output = core_path(options, pid);
    dump.cpu_sample_seconds = 0;
    dump.siginfo = info;
    dump.signal_tid = tid;
    bool keep = options.on_crash == "dump";
    if (dump.output.empty()) {
        out << "snag: no core: cannot create a temporary file (TMPDIR).\n";
        return;
    }
    auto written = write_core(pid, dump);
    if (!written) {
        out << "snag: no core: " << written.error().message << "\n";
        if (!keep) ::unlink(dump.output.c_str());
        return;
    }
    if (keep) {
        outcome.core = dump.output;
        out << "snag: core written to " << dump.output << "\n";
    }
    run_rules(dump.output, out);
    if (!keep) ::unlink(dump.output.c_str());
}

// The user's REPL on the held process. Ctrl-C cancels REPL commands meanwhile (SIGTERM and
// SIGHUP still wait); leaving the REPL hands the process its signal.
void repl_while_held(const JitOptions& options, int pid, int tid, std::ostream& out) {
    out << "snag: the process is held; the REPL is on it. Leave it (Ctrl-D or quit) to deliver the signal.\n";
    out.flush();
    sigset_t interrupt;
    sigemptyset(&interrupt);
    sigaddset(&interrupt, SIGINT);
    ::sigprocmask(SIG_UNBLOCK, &interrupt, nullptr);
    options.repl(pid, tid);
    ::sigprocmask(SIG_BLOCK, &interrupt, nullptr);
}

// Waits up to 5 s for tid's next ptrace stop; its wait status, or 0 when none came.
int next_stop(int tid) {
    for (int i = 0; i < 500; ++i) {
        int status = 0;
        int got = ::waitpid(tid, &status, __WALL | WNOHANG);
        if (got == tid) return WIFSTOPPED(status) ? status : 0;
        if (got < 0) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
}

// Hands the held process its signal with the siginfo the kernel gave it (a fault's si_code and
// address, a sender's pid and uid), which kill() would replace by SI_USER from snag: seizes the
// crashing thread, lets it dequeue a tgkill'd copy of the signal, and rewrites that delivery's
// siginfo before the signal goes on. False when it could not (then kill() is the fallback).
bool deliver_original(int pid, int tid, int signo, const siginfo_t& info) {
    if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return false;
    bool delivered = false;
    if (next_stop(tid) != 0 && ::syscall(SYS_tgkill, pid, tid, signo) == 0) {
        // From the group-stop the seize reported, run until the signal's delivery stop.
        uintptr_t pass = 0;  // another signal dequeued first goes on to the program
        for (int tries = 0; tries < 4 && !delivered; ++tries) {
            if (::ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(pass)) != 0) break;
            int status = next_stop(tid);
            if (status == 0) break;
            bool signal_stop = (status >> 16) == 0;
            pass = signal_stop && WSTOPSIG(status) != signo ? static_cast<uintptr_t>(WSTOPSIG(status)) : 0;
            if (!signal_stop || WSTOPSIG(status) != signo) continue;
            siginfo_t original = info;
            delivered = ::ptrace(PTRACE_SETSIGINFO, tid, nullptr, &original) == 0 &&
                        ::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<uintptr_t>(signo))) == 0;
        }
    }
    if (!delivered) ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);  // a queued copy still arrives
    return delivered;
}

// Dead: no such process, or a zombie its parent has not reaped yet.
bool gone(int pid) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    auto stat = proc::read_file(proc::pid_path(pid, "stat"));
    if (!stat) return true;
    size_t paren = stat->rfind(')');
    return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z';
}

Expected<JitOutcome> supervise(std::unique_ptr<Target> target, int pid, bool own_child, const JitOptions& options,
                               std::ostream& out) {
    auto* process = dynamic_cast<ProcessTarget*>(target.get());
    if (!process) return fail("JIT needs a live process.");
    JitOutcome outcome;
    int crash_tid = 0;
    std::optional<siginfo_t> crash_info;  // for the core's NT_SIGINFO: replaced by SIGSTOP below
    {
        Controller controller(*process);
        pass_everything_else(controller);
        if (own_child) ::kill(pid, SIGCONT);  // it stopped itself before exec
        auto stop = controller.resume({}, {});
        if (!stop) return std::unexpected(stop.error());
        if (stop->reason == StopReason::Exited) {
            outcome.signal = stop->signal;
            outcome.exit_code = stop->exit_code;
            return outcome;
        }
        if (stop->reason != StopReason::Signal) return fail("the watched process stopped unexpectedly.");
        outcome.crashed = true;
        outcome.signal = stop->signal;
        crash_tid = stop->tid;
        if (siginfo_t info{}; ::ptrace(PTRACE_GETSIGINFO, crash_tid, nullptr, &info) == 0) crash_info = info;
        out << "snag: process " << pid << " received " << SignalTable::name(stop->signal) << " in thread " << crash_tid
            << "\n";
        // Held in a job-control stop while snag reads it and writes the core; the signal comes later.
        controller.set_pending_signal(crash_tid, SIGSTOP);
        process->refresh();
        controller.detach();
    }
    // While the process is held in SIGSTOP nothing may end snag before the signal is delivered:
    // termination signals wait (they take effect after the hand-back below).
    sigset_t hold, previous;
    sigemptyset(&hold);
    for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) sigaddset(&hold, signo);
    ::sigprocmask(SIG_BLOCK, &hold, &previous);
    // Reads the stopped process afresh (the exec replaced what the first attach saw).
    target.reset();
    if (auto again = attach_process(pid, {})) report_stack(std::move(*again), crash_tid, out);
    if (options.on_crash == "repl" && options.repl) {
        repl_while_held(options, pid, crash_tid, out);
    } else {
        capture(options, pid, crash_tid, crash_info, outcome, out);
    }
    if (!crash_info || !deliver_original(pid, crash_tid, outcome.signal, *crash_info)) ::kill(pid, outcome.signal);
    ::kill(pid, SIGCONT);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    if (own_child) {
        int status = 0;
        if (::waitpid(pid, &status, 0) == pid) {
            if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
            // The program's own handler took the signal and exited: its status is the program's.
            if (WIFEXITED(status)) outcome.signal = 0, outcome.exit_code = WEXITSTATUS(status);
        } else if (errno == ECHILD) {
            outcome.signal = SIGKILL;  // reaped by the REPL's controller: `kill` there
        }
    } else {
        for (int i = 0; i < 500 && !gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return outcome;
}

}  // namespace

Expected<JitOutcome> run_program(const std::vector<std::string>& argv, const JitOptions& options, std::ostream& out) {
    if (argv.empty()) return fail("snag run needs a program: snag run [--on-crash MODE] -- PROGRAM ARGS...");
    pid_t pid = ::fork();
    if (pid < 0) return fail("cannot start " + argv[0] + ": fork failed.");
    if (pid == 0) {
        ::raise(SIGSTOP);  // wait here until snag is attached
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, WUNTRACED);
    if (!WIFSTOPPED(status)) return fail("cannot start " + argv[0] + ".");
    auto target = attach_process(pid, {});
    if (!target) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return std::unexpected(target.error());
    }
    return supervise(std::move(*target), pid, true, options, out);
}

Expected<JitOutcome> watch_process(int pid, const JitOptions& options, std::ostream& out) {
    auto target = attach_process(pid, {});
    if (!target) return std::unexpected(target.error());
    return supervise(std::move(*target), pid, false, options, out);
}

}  // namespace snag::control
