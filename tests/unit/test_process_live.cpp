// Live targets on real forked children: attach/read/detach cycles, thread churn, errors, timing.
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <sys/syscall.h>

#include "target/attach_registry.hpp"
#include "target/process_target.hpp"
#include "test_process_child.hpp"

using namespace snag;
using namespace snag::test;

namespace {

const Mapping* mapping_of(const Target& target, uint64_t address) {
    for (const auto& mapping : target.mappings())
        if (mapping.start <= address && address < mapping.end) return &mapping;
    return nullptr;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string error_of(int pid, TargetOptions options = {}) {
    auto target = attach_process(pid, options);
    if (target) return "(attached)";
    CHECK(target.error().exit_code == 2);
    return target.error().message;
}

void* spawn_forever(void*) {
    for (int i = 0; i < 300; ++i) {
        pthread_t thread;
        ::pthread_create(&thread, nullptr, park, nullptr);
        ::usleep(300);
    }
    return park(nullptr);
}

void* quick_exit_thread(void*) { return nullptr; }

void* churn_forever(void*) {
    for (;;) {
        pthread_t thread;
        if (::pthread_create(&thread, nullptr, quick_exit_thread, nullptr) == 0) ::pthread_detach(thread);
    }
    return nullptr;
}

}  // namespace

TEST_CASE("live: attach, read registers and memory, detach 100 times; the process runs on") {
    Child child = fork_child([](int fd) { counting_child(fd, 2); });
    REQUIRE(child.pid() > 0);
    for (int round = 0; round < 100; ++round) {
        auto opened = attach_process(child.pid(), {});
        REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().message));
        auto& target = static_cast<ProcessTarget&>(**opened);
        REQUIRE(target.threads().size() == 4);
        REQUIRE(all_threads_stopped(child.pid()));
        for (const auto& thread : target.threads()) {
            CHECK(thread.has_registers);
            CHECK(thread.has_cpu_times);
            CHECK(thread.state != 't');
            const Mapping* code = mapping_of(target, thread.regs.rip);
            REQUIRE(code);
            CHECK(code->perms[2] == 'x');
            CHECK(mapping_of(target, thread.regs.rsp));
        }
        CHECK(target.read_u64(reinterpret_cast<uint64_t>(&g_child_magic)) == child_magic(child.pid()));
        // Stopped means stopped: the counter does not move between two uncached reads.
        auto first = target.read_u64(reinterpret_cast<uint64_t>(&g_child_counter));
        target.invalidate_memory_cache();
        ::usleep(100);
        CHECK(target.read_u64(reinterpret_cast<uint64_t>(&g_child_counter)) == first);
        target.detach();
        REQUIRE(wait_until_running(child.pid()));
    }
    CHECK(counter_advances(child.pid()));
}

TEST_CASE("live: threads, names, process description") {
    Child child = fork_child([](int fd) { counting_child(fd, 1); });
    auto opened = attach_process(child.pid(), {});
    REQUIRE(opened);
    const Target& target = **opened;
    CHECK(target.kind() == TargetKind::Process);
    CHECK(target.process().pid == child.pid());
    CHECK(target.process().ppid == ::getpid());
    CHECK(target.process().executable == proc::read_link("/proc/self/exe"));
    CHECK_FALSE(target.process().cmdline.empty());
    CHECK_FALSE(target.auxv().empty());
    CHECK(std::count_if(target.threads().begin(), target.threads().end(),
                        [](const Thread& t) { return t.name == kCounterThreadName; }) == 1);
    CHECK(target.local_path(target.process().executable) == target.process().executable);
    CHECK(target.local_path("[stack]").empty());
    CHECK_FALSE(target.signal());

    // A TID names its whole process.
    int worker = target.threads().back().tid;
    opened->reset();
    REQUIRE(wait_until_running(child.pid()));
    auto by_thread = attach_process(worker, {});
    REQUIRE(by_thread);
    CHECK((*by_thread)->process().pid == child.pid());
    CHECK((*by_thread)->threads().size() == 3);
    CHECK(contains((*by_thread)->warnings().front(), "is a thread of process"));
}

TEST_CASE("live: a thread-creating process is attached with all its threads") {
    Child child = fork_child([](int fd) {
        g_child_magic = child_magic(::getpid());
        pthread_t thread;
        ::pthread_create(&thread, nullptr, spawn_forever, nullptr);
        ::pthread_create(&thread, nullptr, churn_forever, nullptr);
        while (proc::list_tasks(::getpid()).size() < 20) ::usleep(100);
        signal_ready(fd);
        for (;;) ::pause();
    });
    REQUIRE(child.pid() > 0);
    for (int round = 0; round < 25; ++round) {
        auto opened = attach_process(child.pid(), {});
        REQUIRE_MESSAGE(opened, (opened ? "" : opened.error().message));
        std::set<int> attached;
        for (const auto& thread : (*opened)->threads()) {
            CHECK(thread.has_registers);
            attached.insert(thread.tid);
        }
        // While it is stopped, /proc lists exactly the threads snag holds (dying ones aside).
        for (int tid : proc::list_tasks(child.pid())) {
            auto stat = proc::read_task_stat(child.pid(), tid);
            if (!stat || stat->state == 'X' || stat->state == 'Z') continue;
            CHECK_MESSAGE(attached.count(tid), "thread ", tid, " was missed (state ", stat->state, ")");
            CHECK(stat->state == 't');
        }
        opened->reset();
        REQUIRE(wait_until_running(child.pid()));
        ::usleep(2000);
    }
    CHECK(proc::list_tasks(child.pid()).size() > 20);
}

TEST_CASE("live: --no-stop reads a running process") {
    Child child = fork_child([](int fd) { counting_child(fd, 2); });
    TargetOptions options;
    options.non_blocking = true;
    auto opened = attach_process(child.pid(), options);
    REQUIRE(opened);
    auto& target = **opened;
    CHECK(target.threads().size() == 4);
    for (const auto& thread : target.threads()) CHECK_FALSE(thread.has_registers);
    REQUIRE_FALSE(target.warnings().empty());
    CHECK(contains(target.warnings().front(), "--no-stop"));
    CHECK_FALSE(any_thread_stopped(child.pid()));
    CHECK(proc::read_status(child.pid())->tracer_pid == 0);
    CHECK(target.read_u64(reinterpret_cast<uint64_t>(&g_child_magic)) == child_magic(child.pid()));
    auto before = target.read_u64(reinterpret_cast<uint64_t>(&g_child_counter));
    ::usleep(20000);
    CHECK(target.read_u64(reinterpret_cast<uint64_t>(&g_child_counter)) > before);  // never cached
}

TEST_CASE("live: errors name the cause") {
    SUBCASE("vanished PID") {
        pid_t pid = ::fork();
        if (pid == 0) ::_exit(0);
        ::waitpid(pid, nullptr, 0);
        CHECK(error_of(pid) == "no such process " + std::to_string(pid) + " (it may have exited); check the PID with ps.");
        TargetOptions options;
        options.non_blocking = true;
        CHECK(contains(error_of(pid, options), "no such process"));
    }
    SUBCASE("snag itself") { CHECK(contains(error_of(::getpid()), "cannot attach to snag itself")); }
    SUBCASE("zombie") {
        pid_t pid = ::fork();
        if (pid == 0) ::_exit(0);
        for (int i = 0; i < 1000; ++i) {
            auto stat = proc::read_task_stat(pid, pid);
            if (stat && stat->state == 'Z') break;
            ::usleep(1000);
        }
        auto message = error_of(pid);
        ::waitpid(pid, nullptr, 0);
        CHECK(contains(message, "is a zombie"));
        CHECK(contains(message, "(PID " + std::to_string(::getpid()) + ")"));
    }
    SUBCASE("already traced by another debugger") {
        Child target = fork_child([](int fd) { counting_child(fd, 0); });
        pid_t target_pid = target.pid();
        Child tracer = fork_child([target_pid](int fd) {
            ::prctl(PR_SET_NAME, "fakegdb");
            if (::ptrace(PTRACE_SEIZE, target_pid, nullptr, nullptr) != 0) ::_exit(1);
            signal_ready(fd);
            for (;;) ::pause();
        });
        REQUIRE(tracer.pid() > 0);
        CHECK(error_of(target_pid) == "process " + std::to_string(target_pid) + " is already traced by " +
                                          std::to_string(tracer.pid()) +
                                          " (fakegdb); detach that debugger or stop it, then try again.");
        TargetOptions no_stop;  // needs no ptrace relation, so it works beside the debugger
        no_stop.non_blocking = true;
        auto reading = attach_process(target_pid, no_stop);
        REQUIRE(reading);
        CHECK((*reading)->read_u64(reinterpret_cast<uint64_t>(&g_child_magic)) == child_magic(target_pid));
        tracer.stop();
        CHECK(wait_until_running(target_pid));
    }
    SUBCASE("kernel thread") {
        auto comm = proc::read_file("/proc/2/comm");
        if (comm && *comm == "kthreadd\n") CHECK(contains(error_of(2), "is a kernel thread"));
    }
    SUBCASE("another user's process, without CAP_SYS_PTRACE") {
        if (::getuid() != 0) return;  // needs root to become someone else
        Child target = fork_child([](int fd) { counting_child(fd, 0); });
        pid_t target_pid = target.pid();
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_t helper = ::fork();
        if (helper == 0) {
            ::close(fds[0]);
            // Dropping root's uids also clears the effective capabilities, CAP_SYS_PTRACE included.
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(1);
            auto opened = attach_process(target_pid, {});
            std::string message = opened ? "(attached)" : opened.error().message;
            (void)!::write(fds[1], message.data(), message.size());
            ::_exit(0);
        }
        ::close(fds[1]);
        std::string message;
        char buffer[512];
        for (ssize_t got; (got = ::read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, got);
        ::close(fds[0]);
        ::waitpid(helper, nullptr, 0);
        CHECK(contains(message, "not permitted: it belongs to uid 0 and snag runs as uid 65534 without "
                                "CAP_SYS_PTRACE; run snag as that user or with sudo."));
        CHECK_FALSE(any_thread_stopped(target_pid));
    }
    SUBCASE("invalid PID") { CHECK(contains(error_of(0), "invalid PID")); }
}

TEST_CASE("live: a 32-bit process is refused with the reason") {
    // A minimal i386 executable: one PT_LOAD and "jmp ." at the entry point.
    unsigned char elf[86] = {0x7f, 'E', 'L', 'F', 1, 1, 1};
    auto put16 = [&](size_t at, uint16_t v) { std::memcpy(elf + at, &v, 2); };
    auto put32 = [&](size_t at, uint32_t v) { std::memcpy(elf + at, &v, 4); };
    put16(16, 2), put16(18, 3), put32(20, 1), put32(24, 0x08048054), put32(28, 52);
    put16(40, 52), put16(42, 32), put16(44, 1);
    put32(52, 1), put32(56, 0), put32(60, 0x08048000), put32(64, 0x08048000);
    put32(68, sizeof elf), put32(72, sizeof elf), put32(76, 5), put32(80, 0x1000);
    elf[84] = 0xeb, elf[85] = 0xfe;
    std::string path = "/tmp/snag-test-i386-" + std::to_string(::getpid());
    {
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(elf), sizeof elf);
    }
    ::chmod(path.c_str(), 0755);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test (ctest would hang)
        char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
        ::execv(path.c_str(), argv);
        ::_exit(127);
    }
    Child child(pid);
    bool running = false;
    for (int i = 0; i < 2000 && !running; ++i) {
        running = proc::read_link(proc::pid_path(pid, "exe")) == path;
        if (!running) ::usleep(1000);
    }
    ::unlink(path.c_str());
    if (!running) {
        MESSAGE("this kernel cannot run i386 programs; 32-bit check not exercised");
        return;
    }
    CHECK(contains(error_of(pid), "is a 32-bit program"));
}

TEST_CASE("live: a deleted executable is found through /proc") {
    std::string path = "/tmp/snag-test-sleep-" + std::to_string(::getpid());
    {
        std::ifstream in("/bin/sleep", std::ios::binary);
        std::ofstream out(path, std::ios::binary);
        out << in.rdbuf();
    }
    ::chmod(path.c_str(), 0755);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test (ctest would hang)
        char* argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>("100"), nullptr};
        ::execv(path.c_str(), argv);
        ::_exit(127);
    }
    Child child(pid);
    for (int i = 0; i < 2000 && proc::read_link(proc::pid_path(pid, "exe")) != path; ++i) ::usleep(1000);
    ::unlink(path.c_str());
    auto opened = attach_process(pid, {});
    REQUIRE(opened);
    const Target& target = **opened;
    CHECK(target.process().executable == path + " (deleted)");
    CHECK(contains(target.warnings().back(), "was deleted or replaced"));
    std::string local = target.local_path(target.process().executable);
    CHECK(local.rfind("/proc/" + std::to_string(pid) + "/map_files/", 0) == 0);
    auto head = proc::read_file(local);
    REQUIRE(head);
    CHECK(head->compare(0, 4, "\x7f" "ELF") == 0);
}

TEST_CASE("live: attach + registers + detach of 200 threads is quick") {
    Child child = fork_child([](int fd) {
        pthread_t thread;
        for (int i = 0; i < 199; ++i) ::pthread_create(&thread, nullptr, park, nullptr);
        signal_ready(fd);
        park(nullptr);
    });
    REQUIRE(child.pid() > 0);
    while (proc::list_tasks(child.pid()).size() < 200) ::usleep(1000);
    using Clock = std::chrono::steady_clock;
    std::vector<double> attach_ms, detach_ms;
    for (int round = 0; round < 20; ++round) {
        auto start = Clock::now();
        auto opened = attach_process(child.pid(), {});
        auto attached = Clock::now();
        REQUIRE(opened);
        REQUIRE((*opened)->threads().size() == 200);
        (*opened)->detach();
        auto detached = Clock::now();
        attach_ms.push_back(std::chrono::duration<double, std::milli>(attached - start).count());
        detach_ms.push_back(std::chrono::duration<double, std::milli>(detached - attached).count());
        REQUIRE(wait_until_running(child.pid()));
    }
    std::sort(attach_ms.begin(), attach_ms.end());
    std::sort(detach_ms.begin(), detach_ms.end());
    MESSAGE("200 threads: attach+registers median ", attach_ms[10], " ms (min ", attach_ms[0], "), detach median ",
            detach_ms[10], " ms (min ", detach_ms[0], ")");
    CHECK(attach_ms[10] + detach_ms[10] < 250.0);
}

TEST_CASE("live: a thread that cannot stop (vfork parent) gives an error and is not left stopped") {
    // A vfork parent sleeps uninterruptibly until its child exits; PTRACE_INTERRUPT cannot stop it.
    Child child = fork_child([](int fd) {
        signal_ready(fd);
        pid_t vchild = ::vfork();
        if (vchild == 0) {
            timespec ts{4, 0};
            ::syscall(SYS_nanosleep, &ts, nullptr);
            ::_exit(0);
        }
        ::waitpid(vchild, nullptr, 0);
        for (;;) g_child_counter.fetch_add(1), ::usleep(200);
    });
    REQUIRE(child.pid() > 0);
    for (int i = 0; i < 1000 && proc::read_task_stat(child.pid(), child.pid())->state != 'D'; ++i) ::usleep(1000);
    auto opened = attach_process(child.pid(), {});
    REQUIRE_FALSE(opened);
    CHECK(contains(opened.error().message, "did not stop within 3 s (it is in uninterruptible sleep, state D"));
    CHECK(proc::read_status(child.pid())->tracer_pid == ::getpid());  // still ours: it lingers
    // Once the vfork child is gone the parent reaches its pending stop; snag lets it go.
    for (int i = 0; i < 6000 && attach_registry::retry_lingering() > 0; ++i) ::usleep(1000);
    CHECK(attach_registry::retry_lingering() == 0);
    CHECK(wait_until_running(child.pid()));
    CHECK(counter_advances(child.pid()));
    CHECK(proc::read_status(child.pid())->tracer_pid == 0);
}
