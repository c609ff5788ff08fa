// The unwinder on real stacks of this process: a thread parks in a known call chain (plain and
// inside a signal handler), its registers come from getcontext, memory from process_vm_readv.
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstring>
#include <doctest/doctest.h>
#include <map>
#include <thread>

#include "self_target.hpp"
#include "unwind/unwinder.hpp"

namespace {

using snag::Module;
using snag::NativeStack;

// Modules of this process from the dynamic loader: exactly what the unwinder needs of a Symbolizer.
class SelfModules : public snag::Symbolizer {
public:
    SelfModules() { dl_iterate_phdr(&add, this); }
    const std::vector<Module>& modules() const override { return modules_; }
    const Module* module_at(uint64_t address) const override {
        for (const auto& m : modules_)
            if (address >= m.start && address < m.end) return &m;
        return nullptr;
    }
    std::vector<snag::Symbol> symbolize(uint64_t, bool) override { return {snag::Symbol{}}; }
    std::optional<uint64_t> address_of(std::string_view) override { return std::nullopt; }
    std::vector<uint64_t> addresses_of(std::string_view) override { return {}; }
    std::optional<std::pair<std::string, uint64_t>> symbol_at(uint64_t) override { return std::nullopt; }

private:
    static int add(dl_phdr_info* info, size_t, void* data) {
        Module m;
        m.bias = info->dlpi_addr;
        m.path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
        // The vDSO has no file: leave local_path empty so its image is read from memory.
        if (m.path.find("vdso") == std::string::npos) m.local_path = m.path;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
            const auto& ph = info->dlpi_phdr[i];
            if (ph.p_type != PT_LOAD) continue;
            uint64_t lo = (ph.p_vaddr & ~uint64_t(0xfff)) + info->dlpi_addr;
            uint64_t hi = ph.p_vaddr + ph.p_memsz + info->dlpi_addr;
            if (m.end == 0 || lo < m.start) m.start = lo;
            if (hi > m.end) m.end = hi;
        }
        static_cast<SelfModules*>(data)->modules_.push_back(m);
        return 0;
    }
    std::vector<Module> modules_;
};

// A parked thread: the chain saves its context, says so on `ready`, then blocks on `release`.
struct Parking {
    ucontext_t context{};
    void* returns[4] = {};  // return addresses each function of the chain saw
    int tid = 0;
    int ready[2] = {-1, -1};
    int release[2] = {-1, -1};
    Parking() {
        REQUIRE(pipe(ready) == 0);
        REQUIRE(pipe(release) == 0);
    }
    ~Parking() {
        for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
    }
    void block() {
        char c = 1;
        (void)!write(ready[1], &c, 1);
        (void)!read(release[0], &c, 1);
    }
    void wait_parked() {
        char c;
        REQUIRE(read(ready[0], &c, 1) == 1);
    }
    void let_go() {
        char c = 1;
        (void)!write(release[1], &c, 1);
    }
};

Parking* g_parking = nullptr;

// A macro, not a function: the saved context must be the chain's innermost function itself.
#define PARK()                                          \
    do {                                                \
        g_parking->tid = int(syscall(SYS_gettid));      \
        getcontext(&g_parking->context);                \
        g_parking->block();                             \
    } while (0)

#define KEEP_FRAME() asm volatile("" ::: "memory")  // forbids turning the call into a tail call

__attribute__((noinline)) void chain3() {
    g_parking->returns[2] = __builtin_return_address(0);
    PARK();
    KEEP_FRAME();
}
__attribute__((noinline)) void chain2() {
    g_parking->returns[1] = __builtin_return_address(0);
    chain3();
    KEEP_FRAME();
}
__attribute__((noinline)) void chain1() {
    g_parking->returns[0] = __builtin_return_address(0);
    chain2();
    KEEP_FRAME();
}

__attribute__((noinline)) void handler_inner() {
    g_parking->returns[1] = __builtin_return_address(0);
    PARK();
    KEEP_FRAME();
}
__attribute__((noinline)) void on_signal(int) {
    g_parking->returns[0] = __builtin_return_address(0);  // the signal trampoline
    handler_inner();
    KEEP_FRAME();
}
__attribute__((noinline)) void raise_in_thread() {
    g_parking->returns[2] = __builtin_return_address(0);
    pthread_kill(pthread_self(), SIGUSR1);
    KEEP_FRAME();
}

uint64_t addr(void* p) { return reinterpret_cast<uint64_t>(p); }

NativeStack unwind_parked(Parking& parking, void (*entry)(), size_t max_depth = 256) {
    g_parking = &parking;
    std::thread worker(entry);
    parking.wait_parked();
    snag::test::SelfTarget target;
    target.add_thread(parking.tid, snag::test::registers_from(parking.context));
    SelfModules modules;
    auto unwinder = snag::make_unwinder(target, modules);
    NativeStack stack = unwinder->unwind(target.threads()[0], max_depth);
    parking.let_go();
    worker.join();
    g_parking = nullptr;
    return stack;
}

}  // namespace

TEST_CASE("unwinder walks a known call chain of a parked thread") {
    Parking parking;
    NativeStack stack = unwind_parked(parking, chain1);
    INFO("error: " << stack.error);
    REQUIRE(stack.frames.size() >= 5);
    CHECK(stack.frames[0].pc == uint64_t(parking.context.uc_mcontext.gregs[REG_RIP]));
    CHECK(stack.frames[1].pc == addr(parking.returns[2]));  // in chain2
    CHECK(stack.frames[2].pc == addr(parking.returns[1]));  // in chain1
    CHECK(stack.frames[3].pc == addr(parking.returns[0]));  // in std::thread's invoker
    CHECK_FALSE(stack.truncated);
    for (size_t i = 1; i < stack.frames.size(); ++i) {
        CHECK(stack.frames[i].sp >= stack.frames[i - 1].sp);
        CHECK_FALSE(stack.frames[i].is_signal_frame);
    }
    CHECK(stack.frames[0].regs.rip == stack.frames[0].pc);
    CHECK(stack.frames[0].cfa == stack.frames[1].sp);
}

TEST_CASE("unwinder crosses a signal frame into the interrupted function") {
    struct sigaction action{}, old{};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    REQUIRE(sigaction(SIGUSR1, &action, &old) == 0);
    Parking parking;
    NativeStack stack = unwind_parked(parking, raise_in_thread);
    sigaction(SIGUSR1, &old, nullptr);
    INFO("error: " << stack.error);
    REQUIRE(stack.frames.size() >= 6);
    CHECK(stack.frames[1].pc == addr(parking.returns[1]));  // in on_signal
    CHECK(stack.frames[2].pc == addr(parking.returns[0]));  // __restore_rt
    CHECK(stack.frames[2].is_signal_frame);
    // Past the trampoline: libc's pthread_kill, then raise_in_thread, then its caller.
    size_t caller = 0;
    for (size_t i = 3; i < stack.frames.size(); ++i)
        if (stack.frames[i].pc == addr(parking.returns[2])) caller = i;
    REQUIRE(caller > 3);
    uint64_t raiser = addr(reinterpret_cast<void*>(&raise_in_thread));
    CHECK(stack.frames[caller - 1].pc > raiser);
    CHECK(stack.frames[caller - 1].pc < raiser + 256);
}

TEST_CASE("unwinder stops at the depth bound") {
    Parking parking;
    NativeStack stack = unwind_parked(parking, chain1, 2);
    CHECK(stack.frames.size() == 2);
    CHECK(stack.truncated);
    CHECK(stack.error.find("depth limit") != std::string::npos);
}

namespace {

// Synthetic memory: a frame-pointer chain with no CFI anywhere.
class FakeTarget : public snag::test::SelfTarget {
public:
    std::map<uint64_t, uint64_t> words;
    size_t read(uint64_t addr, void* out, size_t len) override {
        size_t done = 0;
        while (done + 8 <= len) {
            auto it = words.find(addr + done);
            if (it == words.end()) break;
            std::memcpy(static_cast<char*>(out) + done, &it->second, 8);
            done += 8;
        }
        return done;
    }
};

NativeStack unwind_fake(FakeTarget& target, uint64_t rip, uint64_t rsp, uint64_t rbp) {
    snag::Registers regs{};
    regs.rip = rip;
    regs.rsp = rsp;
    regs.rbp = rbp;
    target.add_thread(1, regs);
    SelfModules modules;
    auto unwinder = snag::make_unwinder(target, modules);
    return unwinder->unwind(target.threads()[0]);
}

}  // namespace

TEST_CASE("unwinder follows the frame-pointer chain where there is no CFI") {
    FakeTarget target;
    const uint64_t code = 0x7000'0000'0000;  // not in any module
    for (uint64_t a = 0xff00; a < 0x10100; a += 8) target.words[a] = 0;
    target.words[0x10000] = 0x10020;  // frame 1's saved rbp
    target.words[0x10008] = code + 0x10;
    target.words[0x10020] = 0x10040;
    target.words[0x10028] = code + 0x20;
    target.words[0x10040] = 0;        // outermost frame: rbp 0
    target.words[0x10048] = code + 0x30;
    NativeStack stack = unwind_fake(target, code, 0xff00, 0x10000);
    INFO("error: " << stack.error);
    REQUIRE(stack.frames.size() >= 4);
    CHECK(stack.frames[1].pc == code + 0x10);
    CHECK(stack.frames[1].sp > stack.frames[0].sp);
    CHECK(stack.frames[1].found_by_frame_pointer);
    CHECK(stack.frames[2].pc == code + 0x20);
    CHECK(stack.frames[3].pc == code + 0x30);
    CHECK(stack.frames[3].found_by_frame_pointer);
    CHECK(stack.frames.size() < 8);
}

TEST_CASE("unwinder reports an unreadable stack instead of inventing frames") {
    FakeTarget target;
    const uint64_t code = 0x7000'0000'0000;
    NativeStack stack = unwind_fake(target, code, 0xff00, 0x10000);
    CHECK(stack.frames.size() == 1);
    CHECK(stack.frames[0].pc == code);
}
