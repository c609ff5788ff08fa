// snag dump on a real child process: the stop, the copy, and what the core says afterwards.
#include <doctest/doctest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dump/dump.hpp"
#include "dump/memory_copy.hpp"
#include "target/target.hpp"
#include "test_core_builder.hpp"

using namespace snag;

namespace {

volatile uint64_t g_magic = 0;
char* g_pages = nullptr;

void* park(void*) {
    pthread_setname_np(pthread_self(), "dump-worker");
    for (;;) ::pause();
    return nullptr;
}

// A child with two named threads, a known global, and a readable/unreadable/readable page triple.
struct Child {
    pid_t pid = -1;
    Child() {
        g_pages = static_cast<char*>(::mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        pid = ::fork();
        if (pid == 0) {
            // An orphan would keep ctest's output pipe open and hang the run if the test dies.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            g_magic = 0x5eed5eed5eed5eedull;
            std::memset(g_pages, 'a', 4096);
            std::memset(g_pages + 8192, 'c', 4096);
            ::mprotect(g_pages + 4096, 4096, PROT_NONE);
            pthread_t t;
            for (int i = 0; i < 2; ++i) pthread_create(&t, nullptr, park, nullptr);
            ::usleep(20000);
            (void)!::write(ready[1], "r", 1);
            for (;;) ::pause();
        }
        char c;
        ::close(ready[1]);
        REQUIRE(::read(ready[0], &c, 1) == 1);
        ::close(ready[0]);
    }
    ~Child() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        ::munmap(g_pages, 3 * 4096);
    }
};

}  // namespace

TEST_CASE("dump live: the core of a running child has its threads, names, memory and paratext") {
    Child child;
    test::TempDir dir;
    DumpOptions options;
    options.output = dir.path() + "/child.core";
    options.cpu_sample_seconds = 0.05;
    auto report = write_core(child.pid, options);
    REQUIRE(report);
    CHECK(report->threads == 3);
    CHECK(report->stopped_seconds > 0);
    CHECK(report->stopped_seconds < 5);
    CHECK(::kill(child.pid, 0) == 0);  // still alive and running after the dump

    auto target = open_core(options.output, {});
    REQUIRE(target);
    auto& t = **target;
    REQUIRE(t.threads().size() == 3);
    CHECK(t.threads()[0].tid == child.pid);
    int named = 0;
    for (const auto& th : t.threads()) {
        CHECK(th.regs.rip != 0);
        named += th.name == "dump-worker";
    }
    CHECK(named == 2);
    CHECK(t.read_value<uint64_t>(reinterpret_cast<uint64_t>(&g_magic)) == 0x5eed5eed5eed5eedull);
    REQUIRE(t.paratext());
    CHECK(t.paratext()->find("\"fds\"") != std::string::npos);
    CHECK(t.paratext()->find("\"cpu_percent\"") != std::string::npos);
    CHECK(t.process().pid == child.pid);
}

TEST_CASE("dump live: copies skip unreadable pages and keep the rest") {
    Child child;
    std::string out(3 * 4096, 'x');
    uint64_t got = dump::copy_process_memory(child.pid, {{reinterpret_cast<uint64_t>(g_pages), out.data(), out.size()}});
    CHECK(got == 2 * 4096);
    CHECK(out.substr(0, 4096) == std::string(4096, 'a'));
    CHECK(out.substr(4096, 4096) == std::string(4096, 'x'));  // left as it was: the writer's zeros
    CHECK(out.substr(8192) == std::string(4096, 'c'));
}

TEST_CASE("dump live: a vanished process or unwritable output is a clear error") {
    DumpOptions options;
    options.output = "/tmp/snag-never-written.core";
    auto gone = write_core(999999999, options);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().message == "no such process 999999999 (it may have exited); check the PID with ps.");
    Child child;
    options.output = "/nonexistent-dir/x.core";
    auto unwritable = write_core(child.pid, options);
    REQUIRE_FALSE(unwritable);
    CHECK(unwritable.error().message.find("cannot create /nonexistent-dir/x.core") == 0);
}
