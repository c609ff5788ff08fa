#include "target/process_attach.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include "target/attach_registry.hpp"

namespace snag {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStopTimeout = std::chrono::seconds(3);
constexpr int kCapSysPtrace = 19;

std::string trim_newline(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

std::string comm_of(int pid) {
    auto comm = proc::read_file(proc::pid_path(pid, "comm"));
    return comm ? trim_newline(*comm) : std::string("?");
}

bool has_cap_sys_ptrace() {
    auto status = proc::read_file("/proc/self/status");
    if (!status) return ::geteuid() == 0;
    size_t at = status->find("CapEff:");
    if (at == std::string::npos) return ::geteuid() == 0;
    unsigned long long caps = std::strtoull(status->c_str() + at + 7, nullptr, 16);
    return (caps >> kCapSysPtrace) & 1;
}

bool is_descendant_of_us(int pid) {
    int self = ::getpid();
    for (int depth = 0; pid > 1 && depth < 64; ++depth) {
        if (pid == self) return true;
        auto status = proc::read_status(pid);
        if (!status) return false;
        pid = status->ppid;
    }
    return false;
}

std::string process_label(int pid) { return "process " + std::to_string(pid) + " (" + comm_of(pid) + ")"; }

std::optional<Error> check_architecture(int pid) {
    int fd = ::open(proc::pid_path(pid, "exe").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;  // unreadable: let ptrace decide
    unsigned char ident[20] = {};
    ssize_t got = ::pread(fd, ident, sizeof ident, 0);
    ::close(fd);
    if (got < static_cast<ssize_t>(sizeof ident) || std::memcmp(ident, ELFMAG, SELFMAG) != 0) return std::nullopt;
    uint16_t machine = 0;
    std::memcpy(&machine, ident + 18, sizeof machine);
    if (ident[EI_CLASS] == ELFCLASS32)
        return Error{process_label(pid) + " is a 32-bit program; snag inspects x86_64 (64-bit) processes only, "
                                          "use gdb for 32-bit ones."};
    if (machine != EM_X86_64)
        return Error{process_label(pid) + " is not an x86_64 program (ELF machine " + std::to_string(machine) +
                     "); snag inspects x86_64 processes only."};
    return std::nullopt;
}

std::optional<Error> check_tracer(int pid, const proc::Status& status) {
    if (status.tracer_pid == 0) return std::nullopt;
    auto tracer = proc::read_status(status.tracer_pid);
    if (status.tracer_pid == ::getpid() || (tracer && tracer->tgid == ::getpid()))
        return Error{"process " + std::to_string(pid) + " is already attached by this snag; detach the other target first."};
    return Error{"process " + std::to_string(pid) + " is already traced by " + std::to_string(status.tracer_pid) + " (" +
                 comm_of(status.tracer_pid) + "); detach that debugger or stop it, then try again."};
}

enum class StopResult { Stopped, Exited, TimedOut, Lost };

bool is_exiting(int pid, int tid) {
    auto stat = proc::read_task_stat(pid, tid);
    return !stat || stat->state == 'Z' || stat->state == 'X';
}

// Polls rather than blocks so a thread stuck in uninterruptible sleep cannot hang snag.
StopResult wait_for_stop(int pid, int tid, int& status, Clock::time_point deadline) {
    for (int spin = 0;; ++spin) {
        pid_t got = ::waitpid(tid, &status, __WALL | WNOHANG);
        if (got == tid) return WIFSTOPPED(status) ? StopResult::Stopped : StopResult::Exited;
        if (got < 0 && errno != EINTR) return StopResult::Lost;
        // A killed process's main thread stays a zombie, unreported, until its other threads
        // are reaped: waiting for it would end in a timeout that blames a thread that is gone.
        if (spin >= 100 && spin % 64 == 0 && is_exiting(pid, tid)) return StopResult::Exited;
        if (Clock::now() > deadline) return StopResult::TimedOut;
        if (spin < 100) {
            ::sched_yield();
        } else {
            ::usleep(spin < 1000 ? 20 : 200);
        }
    }
}

bool is_job_control_stop(int signo) {
    return signo == SIGSTOP || signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU;
}

void record_stop(AttachedThread& thread, int status) {
    int signo = WSTOPSIG(status);
    if ((status >> 16) == PTRACE_EVENT_STOP) {
        thread.group_stopped = is_job_control_stop(signo);
    } else if ((status >> 16) == 0) {
        thread.pending_signal = signo;  // caught on its way to the process: must not be swallowed
        attach_registry::remove(thread.tid);
        attach_registry::add(thread.tid, signo);
    }
}

void release_all(std::map<int, AttachedThread>& threads) {
    for (auto& [tid, thread] : threads)
        if (thread.traced) release_thread(thread);
    threads.clear();
}

bool any_traced(const std::map<int, AttachedThread>& threads) {
    for (const auto& [tid, thread] : threads)
        if (thread.traced) return true;
    return false;
}

std::string timeout_message(int pid, int tid, char state) {
    std::string why = state == 'D' ? " (it is in uninterruptible sleep, state D: e.g. a vfork, disk or NFS wait)" : "";
    return "thread " + std::to_string(tid) + " of process " + std::to_string(pid) + " did not stop within " +
           std::to_string(kStopTimeout.count()) + " s" + why + "; retry later or use --no-stop.";
}

}  // namespace

Error explain_attach_failure(int pid, int error) {
    if (error == ESRCH) return Error{"no such process " + std::to_string(pid) + " (it may have exited); check the PID with ps."};
    if (error != EPERM) return Error{"cannot attach to process " + std::to_string(pid) + ": " + std::strerror(error) + "."};
    auto status = proc::read_status(pid);
    if (status) {
        if (auto tracer = check_tracer(pid, *status)) return *tracer;
        if (status->state == 'Z') return Error{process_label(pid) + " is a zombie; there is nothing left to attach to."};
    }
    bool capable = has_cap_sys_ptrace();
    auto scope_text = proc::read_file("/proc/sys/kernel/yama/ptrace_scope");
    int scope = scope_text ? std::atoi(scope_text->c_str()) : 0;
    std::string label = process_label(pid);
    if (scope == 3)
        return Error{"ptrace is disabled on this machine (kernel.yama.ptrace_scope=3, only a reboot lowers it); "
                     "inspect a core file instead."};
    if (scope == 2 && !capable)
        return Error{"ptrace of " + label + " not permitted: kernel.yama.ptrace_scope=2 allows only CAP_SYS_PTRACE; "
                     "run snag with sudo."};
    if (scope == 1 && !capable && !is_descendant_of_us(pid))
        return Error{"ptrace of " + label + " not permitted: kernel.yama.ptrace_scope=1 allows tracing only "
                     "descendants; run snag with sudo or set kernel.yama.ptrace_scope=0 (sysctl)."};
    if (status && status->real_uid >= 0 && static_cast<uid_t>(status->real_uid) != ::getuid() && !capable)
        return Error{"ptrace of " + label + " not permitted: it belongs to uid " + std::to_string(status->real_uid) +
                     " and snag runs as uid " + std::to_string(::getuid()) +
                     " without CAP_SYS_PTRACE; run snag as that user or with sudo."};
    if (auto self = proc::read_status(::getpid()); self && self->seccomp == 2)
        return Error{"ptrace of " + label + " not permitted: snag runs under a seccomp filter, which blocks ptrace "
                     "in a container started without SYS_PTRACE; run the container with --cap-add SYS_PTRACE (docker, podman; Kubernetes: "
                     "securityContext.capabilities.add: [SYS_PTRACE]), or use --no-stop, which reads memory through "
                     "/proc/PID/mem without ptrace."};
    return Error{"ptrace of " + label + " not permitted (EPERM): it may be setuid/non-dumpable or protected by "
                 "a security module or container policy; run snag as root with CAP_SYS_PTRACE."};
}

Expected<int> check_attachable(int pid, bool will_trace, std::vector<std::string>& warnings) {
    if (pid <= 0) return fail("invalid PID " + std::to_string(pid) + "; pass the PID of a running process.");
    auto status = proc::read_status(pid);
    if (!status) return fail(explain_attach_failure(pid, ESRCH).message);
    if (status->tgid != 0 && status->tgid != pid) {
        warnings.push_back(std::to_string(pid) + " is a thread of process " + std::to_string(status->tgid) +
                           "; inspecting the whole process.");
        pid = status->tgid;
        status = proc::read_status(pid);
        if (!status) return fail(explain_attach_failure(pid, ESRCH).message);
    }
    if (pid == ::getpid())
        return fail("cannot attach to snag itself (PID " + std::to_string(pid) + "); pass the PID of the process to inspect.");
    bool any_alive = false;
    for (int tid : proc::list_tasks(pid)) {
        auto stat = proc::read_task_stat(pid, tid);
        if (stat && stat->state != 'Z' && stat->state != 'X') any_alive = true;
    }
    if (!any_alive)
        return fail(process_label(pid) + " is a zombie: it has exited and waits for its parent (PID " +
                    std::to_string(status->ppid) + ") to reap it; there is nothing left to inspect.");
    auto maps = proc::read_file(proc::pid_path(pid, "maps"));
    // The kernel hides another user's maps behind the same check as ptrace: say why, as attach does.
    if (!maps && proc::read_status(pid)) return std::unexpected(explain_attach_failure(pid, EPERM));
    if (maps && maps->empty() && proc::read_link(proc::pid_path(pid, "exe")).empty())
        return fail(process_label(pid) + " is a kernel thread; it has no user-space memory to inspect.");
    if (auto wrong = check_architecture(pid)) return std::unexpected(*wrong);
    if (will_trace)
        if (auto tracer = check_tracer(pid, *status)) return std::unexpected(*tracer);
    return pid;
}

void release_thread(const AttachedThread& thread) {
    if (thread.traced) attach_registry::detach(thread.tid, thread.pending_signal);
}

std::vector<AttachedThread> list_threads_running(int pid) {
    std::vector<AttachedThread> threads;
    for (int tid : proc::list_tasks(pid)) {
        auto stat = proc::read_task_stat(pid, tid);
        if (!stat) continue;  // exited while listing
        AttachedThread thread;
        thread.tid = tid;
        thread.stat = std::move(*stat);
        threads.push_back(std::move(thread));
    }
    return threads;
}

Expected<std::vector<AttachedThread>> stop_all_threads(int pid, std::vector<std::string>& warnings) {
    attach_registry::retry_lingering();
    std::map<int, AttachedThread> threads;
    std::set<int> gone;
    int exited_while_attaching = 0;
    for (;;) {
        std::vector<int> fresh;
        for (int tid : proc::list_tasks(pid))
            if (!threads.count(tid) && !gone.count(tid)) fresh.push_back(tid);
        if (fresh.empty()) break;
        // Seize and interrupt them all first, then wait: the stops happen in parallel.
        std::vector<int> waiting;
        for (int tid : fresh) {
            AttachedThread thread;
            thread.tid = tid;
            auto stat = proc::read_task_stat(pid, tid);
            if (!stat) {
                gone.insert(tid);
                continue;
            }
            thread.stat = std::move(*stat);
            // Registered before seizing, so a signal arriving in between still detaches it.
            if (!attach_registry::add(tid)) {
                release_all(threads);
                return fail("process " + std::to_string(pid) + " has more threads than snag can attach at once.");
            }
            if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
                int error = errno;
                attach_registry::remove(tid);
                if (error == ESRCH) {
                    gone.insert(tid);
                    ++exited_while_attaching;
                    continue;
                }
                if (error == EPERM && (thread.stat.state == 'Z' || thread.stat.state == 'X')) {
                    threads.emplace(tid, std::move(thread));  // an exited main thread: listed, not traced
                    continue;
                }
                // The kernel refuses a thread that is already exiting with EPERM, not ESRCH.
                if (error == EPERM && (any_traced(threads) || is_exiting(pid, tid))) {
                    gone.insert(tid);
                    ++exited_while_attaching;
                    continue;
                }
                release_all(threads);
                return std::unexpected(explain_attach_failure(pid, error));
            }
            thread.traced = true;
            ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);  // ESRCH: exiting, waitpid reports it
            threads.emplace(tid, std::move(thread));
            waiting.push_back(tid);
        }
        auto deadline = Clock::now() + kStopTimeout;
        for (int tid : waiting) {
            int status = 0;
            auto& thread = threads.at(tid);
            switch (wait_for_stop(pid, tid, status, deadline)) {
                case StopResult::Stopped:
                    record_stop(thread, status);
                    break;
                case StopResult::Exited:
                case StopResult::Lost:
                    attach_registry::remove(tid);
                    threads.erase(tid);
                    gone.insert(tid);
                    ++exited_while_attaching;
                    break;
                case StopResult::TimedOut: {
                    char state = thread.stat.state;
                    release_all(threads);
                    return fail(timeout_message(pid, tid, state));
                }
            }
        }
    }
    if (!any_traced(threads)) {
        release_all(threads);
        return fail("process " + std::to_string(pid) + " exited while snag was attaching to it.");
    }
    if (exited_while_attaching > 0)
        warnings.push_back(std::to_string(exited_while_attaching) + " thread(s) exited while snag was attaching.");
    std::vector<AttachedThread> out;
    out.reserve(threads.size());
    for (auto& [tid, thread] : threads) out.push_back(std::move(thread));
    return out;
}

}  // namespace snag
