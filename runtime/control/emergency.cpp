#include "control/emergency.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "target/attach_registry.hpp"

namespace snag::control::emergency {
namespace {

constexpr int kSites = 1024;
constexpr int kThreads = 4096;

struct Site {
    std::atomic<uint64_t> address{0};
    std::atomic<int> original{0};
    std::atomic<bool> inserted{false};
};
struct TrackedThread {
    std::atomic<int> tid{0};
    std::atomic<int> state{0};
    std::atomic<int> pending{0};
    std::atomic<uint64_t> trap_site{0};  // see set_trap
    std::atomic<uint64_t> trap_sp{0};
};

Site g_sites[kSites];
TrackedThread g_threads[kThreads];
std::atomic<int> g_pid{0};
std::atomic<int> g_mem_fd{-1};
std::atomic<bool> g_hook_installed{false};

void sleep_ms(long ms) {
    timespec ts{0, ms * 1000000L};
    ::nanosleep(&ts, nullptr);
}

bool is_inserted_site(uint64_t address) {
    for (auto& site : g_sites)
        if (site.inserted.load() && site.address.load() == address) return true;
    return false;
}

void append(char*& at, const char* text) {
    while (*text) *at++ = *text++;
}

void append_number(char*& at, int value) {
    char digits[16];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10);
    while ((value /= 10) > 0);
    while (n > 0) *at++ = digits[--n];
}

// Stops a running tracee; returns the signal it must get on detach (-1: it is gone).
int stop_running(int tid) {
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) return errno == ESRCH ? -1 : 0;
    for (int waited = 0; waited < 2000; ++waited) {
        int status = 0;
        pid_t got = ::waitpid(tid, &status, WNOHANG | __WALL);
        if (got == tid) {
            if (!WIFSTOPPED(status)) return -1;
            if ((status >> 16) != 0) {  // our interrupt or another ptrace event
                flush_pending_trap(tid);
                return 0;
            }
            int sig = WSTOPSIG(status);
            if (sig != SIGTRAP) return sig;
            // Caught on our int3 (rip one past it) or finishing a single-step: never deliver.
            user_regs_struct regs{};
            if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0 && is_inserted_site(regs.rip - 1)) {
                regs.rip -= 1;
                ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
            }
            return 0;
        }
        if (got < 0 && errno != EINTR) return -1;
        sleep_ms(1);
    }
    return 0;
}

// A stopped thread the controller had not yet moved off its int3 (see set_trap).
void rewind_trapped(TrackedThread& thread) {
    uint64_t site = thread.trap_site.load();
    if (site == 0) return;
    user_regs_struct regs{};
    int tid = thread.tid.load();
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
    if (regs.rip != site + 1 || regs.rsp != thread.trap_sp.load()) return;
    regs.rip = site;
    ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
}

}  // namespace

bool sigtrap_pending(int pid, int tid) {
    char path[64];
    char* at = path;
    append(at, "/proc/");
    append_number(at, pid);
    append(at, "/task/");
    append_number(at, tid);
    append(at, "/status");
    *at = '\0';
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char text[4096];
    ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) return false;
    text[n] = '\0';
    const char* key = "\nSigPnd:";
    for (ssize_t i = 0; i + 8 < n; ++i) {
        int k = 0;
        while (key[k] && text[i + k] == key[k]) ++k;
        if (key[k]) continue;
        const char* hex = text + i + k;
        while (*hex == '\t' || *hex == ' ') ++hex;
        uint64_t mask = 0;
        for (; *hex && *hex != '\n'; ++hex) {
            char c = *hex;
            int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
            mask = (mask << 4) | static_cast<uint64_t>(digit);
        }
        return (mask >> (SIGTRAP - 1)) & 1;
    }
    return false;
}

void flush_pending_trap(int tid) {
    user_regs_struct regs{};
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0 || !is_inserted_site(regs.rip - 1)) return;
    if (!sigtrap_pending(g_pid.load(), tid)) return;
    if (::ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) return;
    for (int waited = 0; waited < 2000; ++waited) {
        int status = 0;
        pid_t got = ::waitpid(tid, &status, WNOHANG | __WALL);
        if (got == tid) {
            if (!WIFSTOPPED(status)) return;
            if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0 && is_inserted_site(regs.rip - 1)) {
                regs.rip -= 1;
                ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
            }
            return;
        }
        if (got < 0 && errno != EINTR) return;
        sleep_ms(1);
    }
}

void begin(int pid, int mem_fd) {
    g_pid.store(pid);
    g_mem_fd.store(mem_fd);
    if (!g_hook_installed.exchange(true)) attach_registry::add_exit_hook(undo_all);
}

void end() {
    for (auto& site : g_sites) {
        site.inserted.store(false);
        site.address.store(0);
    }
    for (auto& thread : g_threads) thread.tid.store(0);
    g_pid.store(0);
    g_mem_fd.store(-1);
}

bool set_site(uint64_t address, uint8_t original, bool inserted) {
    for (auto& site : g_sites)
        if (site.address.load() == address) {
            site.original.store(original);
            site.inserted.store(inserted);
            return true;
        }
    for (auto& site : g_sites) {
        uint64_t expected = 0;
        if (site.address.compare_exchange_strong(expected, address)) {
            site.original.store(original);
            site.inserted.store(inserted);
            return true;
        }
    }
    return false;
}

void clear_site(uint64_t address) {
    for (auto& site : g_sites)
        if (site.address.load() == address) {
            site.inserted.store(false);
            site.address.store(0);
        }
}

void set_thread(int tid, ThreadState state, int pending_signal) {
    TrackedThread* free_slot = nullptr;
    for (auto& thread : g_threads) {
        int current = thread.tid.load();
        if (current == tid) {
            if (state != ThreadState::Stopped) thread.trap_site.store(0);
            thread.state.store(static_cast<int>(state));
            thread.pending.store(pending_signal);
            return;
        }
        if (current == 0 && !free_slot) free_slot = &thread;
    }
    if (!free_slot) return;
    free_slot->trap_site.store(0);
    free_slot->state.store(static_cast<int>(state));
    free_slot->pending.store(pending_signal);
    free_slot->tid.store(tid);
}

void set_trap(int tid, uint64_t site, uint64_t sp) {
    for (auto& thread : g_threads)
        if (thread.tid.load() == tid) {
            thread.trap_site.store(0);  // never a half-updated pair
            thread.trap_sp.store(sp);
            thread.trap_site.store(site);
            return;
        }
}

void clear_thread(int tid) {
    for (auto& thread : g_threads)
        if (thread.tid.load() == tid) thread.tid.store(0);
}

void undo_all() {
    if (g_pid.load() == 0) return;
    int signals[kThreads];
    // 1. Every thread stopped, none left one byte past an int3.
    for (int i = 0; i < kThreads; ++i) {
        signals[i] = -1;
        int tid = g_threads[i].tid.load();
        if (tid == 0) continue;
        auto state = static_cast<ThreadState>(g_threads[i].state.load());
        if (state == ThreadState::Stopped) rewind_trapped(g_threads[i]);
        signals[i] = state == ThreadState::Stopped ? g_threads[i].pending.load() : stop_running(tid);
    }
    // 2. Original code back (through /proc/PID/mem: works on read-only text, stopped or not).
    int fd = g_mem_fd.load();
    for (auto& site : g_sites) {
        if (!site.inserted.exchange(false)) continue;
        uint8_t original = static_cast<uint8_t>(site.original.load());
        if (fd >= 0) ::pwrite(fd, &original, 1, static_cast<off_t>(site.address.load()));
    }
    // 3. Let go, re-delivering signals the threads had when we stopped them.
    for (int i = 0; i < kThreads; ++i) {
        int tid = g_threads[i].tid.exchange(0);
        if (tid == 0) continue;
        if (signals[i] >= 0)
            ::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signals[i])));
        attach_registry::remove(tid);
    }
    g_pid.store(0);
}

}  // namespace snag::control::emergency
