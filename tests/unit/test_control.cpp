// Live control on forked children: breakpoint hits counted exactly across threads, conditions
// and ignore counts, code bytes restored on detach and by the emergency undo; the signal table.
#include <doctest/doctest.h>

#include <sys/uio.h>

#include <cstring>
#include <thread>
#include <vector>

#include "control/controller.hpp"
#include "control/emergency.hpp"
#include "control/signals.hpp"
#include "target/process_target.hpp"
#include "test_process_child.hpp"

namespace {

std::atomic<uint64_t> g_calls{0};

__attribute__((noinline)) void control_probe(uint64_t value) {
    g_calls.fetch_add(value, std::memory_order_relaxed);
    asm volatile("" ::: "memory");
}

// THREADS threads calling control_probe(1) forever.
snag::test::Child probe_child(int threads) {
    return snag::test::fork_child([threads](int ready_fd) {
        std::vector<std::thread> workers;
        for (int i = 0; i < threads; ++i)
            workers.emplace_back([] {
                for (;;) control_probe(1);
            });
        snag::test::signal_ready(ready_fd);
        for (auto& w : workers) w.join();
    });
}

std::vector<uint8_t> remote_bytes(pid_t pid, const void* address, size_t n) {
    std::vector<uint8_t> bytes(n);
    iovec local{bytes.data(), n};
    iovec remote{const_cast<void*>(address), n};
    ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return bytes;
}

uint64_t probe_address() { return reinterpret_cast<uint64_t>(&control_probe); }

std::unique_ptr<snag::ProcessTarget> attach(pid_t pid) {
    auto target = snag::attach_process(pid, {});
    REQUIRE(target);
    return std::unique_ptr<snag::ProcessTarget>(static_cast<snag::ProcessTarget*>(target->release()));
}

}  // namespace

TEST_CASE("control: hits of one breakpoint from several threads are all counted; bytes restored") {
    auto child = probe_child(3);
    REQUIRE(child.pid() > 0);
    auto original = remote_bytes(child.pid(), reinterpret_cast<void*>(&control_probe), 16);
    auto target = attach(child.pid());
    snag::control::Controller controller(*target);
    auto id = controller.add_breakpoint("control_probe", {probe_address()}, false);
    REQUIRE(id);
    CHECK(remote_bytes(child.pid(), reinterpret_cast<void*>(&control_probe), 1)[0] == 0xCC);
    std::set<int> threads;
    uint64_t actions = 0;
    snag::control::HitHandler handler{nullptr, [&](const snag::control::Breakpoint&, int tid) {
                                          threads.insert(tid);
                                          ++actions;
                                          return snag::Expected<bool>(threads.size() >= 2 && actions >= 300);
                                      },
                                      nullptr};
    snag::control::RunLimits limits;
    limits.max_hits = 20000;
    limits.seconds = 20;
    auto stop = controller.resume(handler, limits);
    REQUIRE(stop);
    CHECK(stop->reason == snag::control::StopReason::Breakpoint);
    CHECK(controller.breakpoint(*id)->hits == actions);
    CHECK(threads.size() >= 2);
    // The original code is visible through read_code while the int3 is in memory.
    uint8_t code[16];
    REQUIRE(controller.read_code(probe_address(), code, 16) == 16);
    CHECK(std::memcmp(code, original.data(), 16) == 0);
    controller.detach();
    CHECK(remote_bytes(child.pid(), reinterpret_cast<void*>(&control_probe), 16) == original);
    auto stat = snag::proc::read_status(child.pid());
    REQUIRE(stat);
    CHECK(stat->tracer_pid == 0);
}

TEST_CASE("control: a false condition is no hit; ignore counts skip actions; tbreak goes away") {
    auto child = probe_child(1);
    auto target = attach(child.pid());
    snag::control::Controller controller(*target);
    auto never = controller.add_breakpoint("never", {probe_address()}, false);
    auto once = controller.add_breakpoint("once", {probe_address()}, true);
    REQUIRE(never);
    REQUIRE(once);
    controller.breakpoint(*never)->condition = "false";
    controller.breakpoint(*once)->ignore_count = 4;
    snag::control::HitHandler handler{
        [&](const snag::control::Breakpoint& bp, int) { return snag::Expected<bool>(bp.condition != "false"); },
        [](const snag::control::Breakpoint&, int) { return snag::Expected<bool>(true); }, nullptr};
    auto stop = controller.resume(handler, {});
    REQUIRE(stop);
    CHECK(stop->reason == snag::control::StopReason::Breakpoint);
    CHECK(stop->breakpoint == *once);
    CHECK(controller.breakpoint(*once) == nullptr);  // temporary: deleted at its hit
    CHECK(controller.breakpoint(*never)->hits == 0);
    controller.detach();
}

TEST_CASE("control: the emergency undo restores code and lets running threads go") {
    auto child = probe_child(2);
    auto original = remote_bytes(child.pid(), reinterpret_cast<void*>(&control_probe), 16);
    auto target = attach(child.pid());
    auto* controller = new snag::control::Controller(*target);
    REQUIRE(controller->add_breakpoint("p", {probe_address()}, false));
    snag::control::RunLimits limits;
    limits.max_hits = 20;
    snag::control::HitHandler handler{nullptr, [](const snag::control::Breakpoint&, int) {
                                          return snag::Expected<bool>(false);
                                      },
                                      nullptr};
    REQUIRE(controller->resume(handler, limits));
    snag::control::emergency::undo_all();  // what the signal handler runs
    CHECK(remote_bytes(child.pid(), reinterpret_cast<void*>(&control_probe), 16) == original);
    auto stat = snag::proc::read_status(child.pid());
    REQUIRE(stat);
    CHECK(stat->tracer_pid == 0);
    uint64_t before = 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(::kill(child.pid(), 0) == 0);
    (void)before;
    controller->detach();
    delete controller;
}

TEST_CASE("control: handle table follows gdb's implications") {
    snag::control::SignalTable table;
    CHECK(table.policy(SIGALRM).stop == false);
    CHECK(table.policy(SIGSEGV).stop == true);
    REQUIRE(table.handle("USR1", {"nostop", "noprint", "nopass"}));
    CHECK(table.policy(SIGUSR1).stop == false);
    CHECK(table.policy(SIGUSR1).pass == false);
    REQUIRE(table.handle("SIGUSR1", {"stop"}));
    CHECK(table.policy(SIGUSR1).print == true);
    CHECK(!table.handle("SIGNOPE", {"stop"}));
    CHECK(!table.handle("10", {"sometimes"}));
    CHECK(table.describe(SIGSEGV).rfind("SIGSEGV", 0) == 0);
}
