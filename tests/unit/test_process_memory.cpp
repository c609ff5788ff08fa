// ProcessMemory: cached and uncached reads of this very process, holes, and invalidation.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <time.h>
#include <cstring>
#include <vector>

#include "target/process_memory.hpp"

using snag::ProcessMemory;

namespace {

// Three pages: readable, unmapped, readable. (Not PROT_NONE: /proc/PID/mem reads those anyway.)
struct HoleyBuffer {
    static constexpr size_t kPage = 4096;
    unsigned char* base;
    HoleyBuffer() {
        base = static_cast<unsigned char*>(::mmap(nullptr, 3 * kPage, PROT_READ | PROT_WRITE,
                                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        for (size_t i = 0; i < 3 * kPage; ++i) base[i] = static_cast<unsigned char>(i * 7);
        ::munmap(base + kPage, kPage);
    }
    ~HoleyBuffer() { ::munmap(base, 3 * kPage); }
    uint64_t at(size_t offset) const { return reinterpret_cast<uint64_t>(base + offset); }
};

void check_reads(ProcessMemory& memory) {
    HoleyBuffer buffer;
    unsigned char out[8192];
    // Inside the first page.
    REQUIRE(memory.read(buffer.at(100), out, 50) == 50);
    CHECK(std::memcmp(out, buffer.base + 100, 50) == 0);
    // Running into the hole returns what was readable before it.
    CHECK(memory.read(buffer.at(4000), out, 500) == 96);
    CHECK(std::memcmp(out, buffer.base + 4000, 96) == 0);
    // Starting in the hole: nothing.
    CHECK(memory.read(buffer.at(4096 + 10), out, 10) == 0);
    // The page after the hole is readable on its own.
    REQUIRE(memory.read(buffer.at(8192 + 1), out, 4000) == 4000);
    CHECK(std::memcmp(out, buffer.base + 8193, 4000) == 0);
    // Unmapped address.
    CHECK(memory.read(8, out, 8) == 0);
}

}  // namespace

TEST_CASE("process memory: cached reads, partial reads at holes") {
    ProcessMemory memory(::getpid(), 64);
    check_reads(memory);
}

TEST_CASE("process memory: uncached reads behave the same") {
    ProcessMemory memory(::getpid(), 0);
    check_reads(memory);
}

TEST_CASE("process memory: the /proc/PID/mem fallback, cached and uncached") {
    ProcessMemory cached(::getpid(), 64);
    cached.use_proc_mem();
    check_reads(cached);
    ProcessMemory uncached(::getpid(), 0);
    uncached.use_proc_mem();
    check_reads(uncached);
}

TEST_CASE("process memory: the cache serves repeated small reads and forgets on invalidate") {
    ProcessMemory memory(::getpid(), 64);
    static uint64_t value = 0x1111;
    uint64_t out = 0;
    REQUIRE(memory.read(reinterpret_cast<uint64_t>(&value), &out, 8) == 8);
    CHECK(out == 0x1111);
    auto syscalls = memory.stats().syscalls;
    value = 0x2222;  // the process "ran": a cached read still sees the stopped-time value
    for (int i = 0; i < 100; ++i) memory.read(reinterpret_cast<uint64_t>(&value), &out, 8);
    CHECK(memory.stats().syscalls == syscalls);
    CHECK(out == 0x1111);
    memory.invalidate();
    REQUIRE(memory.read(reinterpret_cast<uint64_t>(&value), &out, 8) == 8);
    CHECK(out == 0x2222);
}

TEST_CASE("process memory: eviction keeps reads correct beyond the cache size") {
    ProcessMemory memory(::getpid(), 8);
    std::vector<unsigned char> big(64 * 4096);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<unsigned char>(i ^ (i >> 12));
    unsigned char out[64];
    for (int round = 0; round < 3; ++round) {
        for (size_t offset = 0; offset + 64 <= big.size(); offset += 4096 - 13) {
            REQUIRE(memory.read(reinterpret_cast<uint64_t>(big.data() + offset), out, 64) == 64);
            REQUIRE(std::memcmp(out, big.data() + offset, 64) == 0);
        }
    }
    // Larger than the cache: read directly.
    std::vector<unsigned char> copy(big.size());
    CHECK(memory.read(reinterpret_cast<uint64_t>(big.data()), copy.data(), copy.size()) == big.size());
    CHECK(copy == big);
}

TEST_CASE("process memory: write then read back") {
    ProcessMemory memory(::getpid(), 16);
    static char text[16] = "hello";
    char out[16] = {};
    memory.read(reinterpret_cast<uint64_t>(text), out, 6);
    CHECK(std::string(out) == "hello");
    REQUIRE(memory.write(reinterpret_cast<uint64_t>(text), "HELLO", 5) == 5);
    CHECK(std::string(text) == "HELLO");
    memory.read(reinterpret_cast<uint64_t>(text), out, 6);
    CHECK(std::string(out) == "HELLO");
}

TEST_CASE("process memory: small reads are served from the cache much faster than syscalls") {
    std::vector<uint64_t> words(128 * 1024);  // 1 MiB, fits the cache
    for (size_t i = 0; i < words.size(); ++i) words[i] = i * 2654435761u;
    auto time_reads = [&](ProcessMemory& memory) {
        uint64_t sum = 0, value = 0;
        // CPU time of this thread (user + kernel): immune to other processes on a loaded machine.
        auto cpu_ns = [] {
            timespec ts;
            ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return ts.tv_sec * 1e9 + ts.tv_nsec;
        };
        double start = cpu_ns();
        for (size_t i = 0; i < 200000; ++i) {
            size_t index = (i * 7919) % words.size();
            memory.read(reinterpret_cast<uint64_t>(&words[index]), &value, sizeof value);
            sum += value == words[index];
        }
        CHECK(sum == 200000);
        return (cpu_ns() - start) / 200000;
    };
    ProcessMemory cached(::getpid(), 512);
    ProcessMemory uncached(::getpid(), 0);
    double cached_ns = time_reads(cached);
    double uncached_ns = time_reads(uncached);
    MESSAGE("8-byte reads: cached ", cached_ns, " ns, uncached ", uncached_ns, " ns; syscalls cached ",
            cached.stats().syscalls, " vs ", uncached.stats().syscalls);
    CHECK(cached.stats().syscalls <= 257);  // 1 MiB that is not page aligned spans 257 pages
    CHECK(cached_ns < uncached_ns);
}
