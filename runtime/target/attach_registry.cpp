#include "target/attach_registry.hpp"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <exception>

namespace snag::attach_registry {
namespace {

// Enough for the largest thread counts seen in practice; add() refuses beyond it.
constexpr int kSlots = 16384;
constexpr int kHooks = 8;

std::atomic<int> g_tids[kSlots];
std::atomic<int> g_signals[kSlots];
std::atomic<int> g_used_slots{0};  // slots [0, g_used_slots) may be non-empty
std::atomic<int> g_tracer{0};      // ptrace relations belong to the thread that attached
std::atomic<void (*)()> g_hooks[kHooks];
std::atomic<bool> g_installed{false};
std::terminate_handler g_previous_terminate = nullptr;

int current_tid() { return static_cast<int>(::syscall(SYS_gettid)); }

void sleep_ms(long ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    ::nanosleep(&ts, nullptr);
}

void detach_stopped(int tid, int status, int signal) {
    // A signal-delivery-stop (not our interrupt) carries a signal the process must still get.
    bool event_stop = (status >> 16) != 0;
    int deliver = event_stop ? signal : WSTOPSIG(status);
    ::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver)));
}

// A tracee must be in a ptrace-stop to be detached; stop a running one first (async-signal-safe).
// False when it is still traced because it did not stop within max_wait_ms.
bool detach_one(int tid, int signal, int max_wait_ms) {
    if (::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) == 0) return true;
    if (errno != ESRCH) return true;
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
        int status = 0;
        ::waitpid(tid, &status, WNOHANG | __WALL);  // a tracee killed while stopped waits to be reaped
        return true;
    }
    for (int waited = 0; waited <= max_wait_ms; ++waited) {
        int status = 0;
        pid_t got = ::waitpid(tid, &status, WNOHANG | __WALL);
        if (got == tid) {
            if (WIFSTOPPED(status)) detach_stopped(tid, status, signal);
            return true;
        }
        if (got < 0 && errno != EINTR) return true;
        sleep_ms(1);
    }
    return false;
}

// Threads that would not stop (uninterruptible sleep) when we let go; retried later.
constexpr int kLingering = 64;
std::atomic<int> g_lingering[kLingering];

void run_hooks() {
    for (auto& slot : g_hooks)
        if (auto hook = slot.load()) hook();
}

void on_fatal_signal(int signo) {
    int saved_errno = errno;
    int tracer = g_tracer.load();
    // Only the tracer thread can detach; hand the signal to it and give it time to do so.
    if (count() > 0 && tracer != 0 && tracer != current_tid()) {
        ::syscall(SYS_tgkill, ::getpid(), tracer, signo);
        for (int waited = 0; waited < 2000 && count() > 0; ++waited) sleep_ms(1);
    }
    detach_all();
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(signo, &action, nullptr);
    errno = saved_errno;
    // Still blocked inside the handler: delivered, with the default action, as soon as we return.
    ::raise(signo);
}

void on_terminate() {
    detach_all();
    if (g_previous_terminate) g_previous_terminate();
    std::abort();
}

void at_exit() { detach_all(); }

}  // namespace

bool add(int tid, int pending_signal) {
    g_tracer.store(current_tid());
    for (int i = 0; i < kSlots; ++i) {
        int expected = 0;
        if (g_tids[i].compare_exchange_strong(expected, tid)) {
            g_signals[i].store(pending_signal);
            int used = g_used_slots.load();
            while (used < i + 1 && !g_used_slots.compare_exchange_weak(used, i + 1)) {
            }
            return true;
        }
    }
    return false;
}

void remove(int tid) {
    int used = g_used_slots.load();
    for (int i = 0; i < used; ++i) {
        int expected = tid;
        if (g_tids[i].compare_exchange_strong(expected, 0)) return;
    }
}

bool contains(int tid) {
    int used = g_used_slots.load();
    for (int i = 0; i < used; ++i)
        if (g_tids[i].load() == tid) return true;
    return false;
}

int count() {
    int used = g_used_slots.load();
    int n = 0;
    for (int i = 0; i < used; ++i) n += g_tids[i].load() != 0;
    return n;
}

void detach_all() {
    if (count() == 0) return;
    run_hooks();
    int used = g_used_slots.load();
    for (int i = 0; i < used; ++i) {
        int tid = g_tids[i].exchange(0);
        if (tid != 0) detach_one(tid, g_signals[i].load(), 2000);
    }
}

void detach(int tid, int signal) {
    remove(tid);
    if (detach_one(tid, signal, 100)) return;
    // Still traced and about to stop on our interrupt: keep it where exit paths and
    // retry_lingering() will find it, or it would stay stopped.
    add(tid, signal);
    for (auto& slot : g_lingering) {
        int expected = 0;
        if (slot.compare_exchange_strong(expected, tid)) return;
    }
}

int retry_lingering() {
    int left = 0;
    for (auto& slot : g_lingering) {
        int tid = slot.load();
        if (tid == 0) continue;
        int status = 0;
        pid_t got = ::waitpid(tid, &status, WNOHANG | __WALL);
        if (got == 0) {
            ++left;
            continue;
        }
        if (got == tid && WIFSTOPPED(status)) detach_stopped(tid, status, 0);
        remove(tid);
        slot.store(0);
    }
    return left;
}

bool add_exit_hook(void (*hook)()) {
    for (auto& slot : g_hooks) {
        void (*expected)() = nullptr;
        if (slot.compare_exchange_strong(expected, hook)) return true;
    }
    return false;
}

void install_exit_handlers() {
    if (g_installed.exchange(true)) return;
    const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    ::sigemptyset(&action.sa_mask);
    // Block the other fatal signals while one is handled so two handlers never detach at once.
    for (int signo : signals) ::sigaddset(&action.sa_mask, signo);
    action.sa_flags = SA_RESTART;
    for (int signo : signals) ::sigaction(signo, &action, nullptr);
    g_previous_terminate = std::set_terminate(on_terminate);
    std::atexit(at_exit);
}

}  // namespace snag::attach_registry
