// Exit safety: however the process holding an attachment dies, the target is not left stopped;
// and signals sent to a target while snag attaches and detaches are delivered, none swallowed.
#include <fcntl.h>
#include <unistd.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "target/attach_registry.hpp"
#include "target/process_target.hpp"
#include "test_process_child.hpp"

using namespace snag;
using namespace snag::test;

namespace {

enum class HolderEnd { Signal, Terminate, Exit };

// A stand-in for snag: installs the exit handlers, attaches to target_pid, keeps the attachment
// until a byte arrives on go_fd, then ends as told (or waits for a signal).
Target* volatile g_held = nullptr;  // reachable, so LeakSanitizer does not flag the deliberate non-destruction

Child start_holder(pid_t target_pid, HolderEnd end, int go_fd) {
    return fork_child([target_pid, end, go_fd](int fd) {
        attach_registry::install_exit_handlers();
        auto target = attach_process(target_pid, {});
        if (!target) ::_exit(3);
        g_held = target->release();  // no destructor may detach: only the exit paths under test
        signal_ready(fd);
        char byte;
        if (end != HolderEnd::Signal && ::read(go_fd, &byte, 1) != 1) ::_exit(4);
        if (end == HolderEnd::Terminate) {
            ::dup2(::open("/dev/null", O_WRONLY), 2);  // the runtime's "terminate called ..." is expected
            std::terminate();
        }
        if (end == HolderEnd::Exit) std::exit(0);
        for (;;) ::pause();
    });
}

// Starts a target and a holder, ends the holder, returns its wait status; checks the target runs.
int end_holder_and_check(HolderEnd end, int signo) {
    Child target = fork_child([](int fd) { counting_child(fd, 2); });
    REQUIRE(target.pid() > 0);
    int go[2];
    REQUIRE(::pipe(go) == 0);
    Child holder = start_holder(target.pid(), end, go[0]);
    ::close(go[0]);
    REQUIRE(holder.pid() > 0);
    CHECK(all_threads_stopped(target.pid()));
    if (end == HolderEnd::Signal) {
        ::kill(holder.pid(), signo);
    } else {
        (void)!::write(go[1], "g", 1);  // never to a dead holder: that would be our SIGPIPE
    }
    ::close(go[1]);
    int status = 0;
    pid_t holder_pid = holder.release();
    REQUIRE(::waitpid(holder_pid, &status, 0) == holder_pid);
    CHECK_MESSAGE(wait_until_running(target.pid()), "target left stopped after signal ", signo);
    CHECK(counter_advances(target.pid()));
    CHECK(proc::read_status(target.pid())->tracer_pid == 0);
    return status;
}

void count_signal(int) { g_child_signals.fetch_add(1); }

}  // namespace

TEST_CASE("exit safety: a fatal signal to the attaching process detaches, then it dies of that signal") {
    for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGSEGV, SIGBUS, SIGABRT}) {
        CAPTURE(signo);
        int status = end_holder_and_check(HolderEnd::Signal, signo);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == signo);
    }
}

TEST_CASE("exit safety: std::terminate and exit() detach") {
    int status = end_holder_and_check(HolderEnd::Terminate, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
    status = end_holder_and_check(HolderEnd::Exit, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("exit safety: SIGKILL of the attaching process lets the kernel resume the target") {
    // No handler runs on SIGKILL; the kernel's ptrace exit path detaches and wakes the threads.
    int status = end_holder_and_check(HolderEnd::Signal, SIGKILL);
    CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("exit safety: a signal handled on a non-tracer thread is forwarded to the tracer") {
    Child target = fork_child([](int fd) { counting_child(fd, 1); });
    pid_t target_pid = target.pid();
    Child holder = fork_child([target_pid](int fd) {
        attach_registry::install_exit_handlers();
        auto opened = attach_process(target_pid, {});
        if (!opened) ::_exit(3);
        g_held = opened->release();
        // Only a helper thread can take SIGTERM: the tracer (main) thread blocks it until forwarded.
        std::thread helper([] { for (;;) ::pause(); });
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
        signal_ready(fd);
        ::sleep(1);  // the forward waits at most 2 s for the tracer; unblock within that window
        ::pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
        for (;;) ::pause();
    });
    REQUIRE(holder.pid() > 0);
    CHECK(all_threads_stopped(target_pid));
    ::kill(holder.pid(), SIGTERM);
    int status = 0;
    pid_t holder_pid = holder.release();
    REQUIRE(::waitpid(holder_pid, &status, 0) == holder_pid);
    CHECK(WIFSIGNALED(status));
    CHECK(wait_until_running(target_pid));
    CHECK(counter_advances(target_pid));
}

TEST_CASE("live: signals sent to a target during attach/detach cycles are all delivered") {
    // Real-time signals queue (they never merge), so a swallowed one shows in the count.
    Child target = fork_child([](int fd) {
        struct sigaction action {};
        action.sa_handler = count_signal;
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGRTMIN, &action, nullptr);
        counting_child(fd, 2);
    });
    pid_t target_pid = target.pid();
    constexpr int kSignals = 300;
    Child sender = fork_child([target_pid](int fd) {
        signal_ready(fd);
        for (int i = 0; i < kSignals; ++i) {
            ::kill(target_pid, SIGRTMIN);
            ::usleep(300);
        }
        ::_exit(0);
    });
    pid_t sender_pid = sender.pid();
    int cycles = 0;
    for (;; ++cycles) {
        int status = 0;
        if (::waitpid(sender_pid, &status, WNOHANG) == sender_pid) break;
        auto opened = attach_process(target_pid, {});
        REQUIRE(opened);
    }
    sender.release();  // already reaped
    MESSAGE(cycles, " attach/detach cycles while ", kSignals, " signals were sent");
    uint64_t delivered = 0;
    for (int waited = 0; waited < 2000 && delivered < kSignals; ++waited) {
        delivered = peek_u64(target_pid, &g_child_signals);
        ::usleep(1000);
    }
    CHECK(delivered == kSignals);
    CHECK(wait_until_running(target_pid));
}
