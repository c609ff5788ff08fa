// Children for the live-target tests: forked copies of this test binary whose threads count, so a
// test knows the values of their globals and can tell whether they still run.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>

#include "target/proc_fs.hpp"

namespace snag::test {

// Same addresses in every forked child: the parent knows where to read them.
inline volatile uint64_t g_child_magic = 0;
inline std::atomic<uint64_t> g_child_counter{0};
inline std::atomic<uint64_t> g_child_signals{0};
inline const char* const kCounterThreadName = "cnt) x (y";

inline uint64_t child_magic(pid_t pid) { return 0x5eed000000000000ull | static_cast<uint64_t>(pid); }

// A forked child; killed and reaped when the test is done with it.
class Child {
public:
    Child() = default;
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
    Child& operator=(Child&& other) noexcept {
        stop();
        pid_ = std::exchange(other.pid_, -1);
        return *this;
    }
    ~Child() { stop(); }
    pid_t pid() const { return pid_; }
    // Forget the child without killing it (it was reaped elsewhere).
    pid_t release() { return std::exchange(pid_, -1); }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, __WALL);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

// Runs body(ready_fd) in a child that never returns into the test runner; waits for its ready byte.
template <class Body>
Child fork_child(Body body) {
    int fds[2];
    if (::pipe(fds) != 0) return Child();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::close(fds[0]);
        body(fds[1]);
        ::_exit(0);
    }
    ::close(fds[1]);
    char byte = 0;
    ssize_t got = ::read(fds[0], &byte, 1);
    ::close(fds[0]);
    if (got != 1) {
        Child failed(pid);
        return Child();
    }
    return Child(pid);
}

inline void signal_ready(int fd) {
    char byte = 'R';
    (void)!::write(fd, &byte, 1);
    ::close(fd);
}

inline void* spin_counter(void*) {
    for (uint64_t i = 0;; ++i) {
        g_child_counter.fetch_add(1, std::memory_order_relaxed);
        if (i % 4096 == 0) ::sched_yield();  // share the CPU with the other test processes
    }
    return nullptr;
}

inline void* sleep_counter(void*) {
    for (;;) {
        g_child_counter.fetch_add(1, std::memory_order_relaxed);
        ::usleep(200);
    }
    return nullptr;
}

inline void* park(void*) {
    for (;;) ::pause();
    return nullptr;
}

// Child body: magic set, one spinning counter thread, `sleepers` sleeping counter threads.
inline void counting_child(int ready_fd, int sleepers) {
    g_child_magic = child_magic(::getpid());
    pthread_t thread;
    ::pthread_create(&thread, nullptr, spin_counter, nullptr);
    ::pthread_setname_np(thread, kCounterThreadName);
    for (int i = 0; i < sleepers; ++i) ::pthread_create(&thread, nullptr, sleep_counter, nullptr);
    while (g_child_counter.load() == 0) ::sched_yield();
    signal_ready(ready_fd);
    for (;;) ::pause();
}

inline bool any_thread_stopped(pid_t pid) {
    for (int tid : proc::list_tasks(pid)) {
        auto stat = proc::read_task_stat(pid, tid);
        if (stat && (stat->state == 't' || stat->state == 'T')) return true;
    }
    return false;
}

inline bool all_threads_stopped(pid_t pid) {
    auto tids = proc::list_tasks(pid);
    for (int tid : tids) {
        auto stat = proc::read_task_stat(pid, tid);
        if (!stat || (stat->state != 't' && stat->state != 'T')) return false;
    }
    return !tids.empty();
}

// A detach wakes threads at once; allow the scheduler a moment before calling it a failure.
inline bool wait_until_running(pid_t pid, int timeout_ms = 500) {
    for (int waited = 0; waited < timeout_ms; ++waited) {
        if (!any_thread_stopped(pid)) return true;
        ::usleep(1000);
    }
    return !any_thread_stopped(pid);
}

inline uint64_t peek_u64(pid_t pid, const volatile void* address) {
    uint64_t value = 0;
    iovec local{&value, sizeof value};
    iovec remote{const_cast<void*>(address), sizeof value};
    ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return value;
}

inline bool counter_advances(pid_t pid, int timeout_ms = 2000) {
    uint64_t before = peek_u64(pid, &g_child_counter);
    for (int waited = 0; waited < timeout_ms; ++waited) {
        ::usleep(1000);
        if (peek_u64(pid, &g_child_counter) > before) return true;
    }
    return false;
}

}  // namespace snag::test
