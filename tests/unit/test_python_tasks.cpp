// asyncio: cycles among tasks (find_await_cycles) and the 3.14+ debug offsets, without a process.
#include <doctest/doctest.h>

#include <cstring>

#include "python/asyncio_debug.hpp"
#include "python/tasks.hpp"

using namespace snag::python;

namespace {

AsyncTask task(uint64_t address, std::vector<uint64_t> awaits) {
    AsyncTask t;
    t.address = address;
    t.awaits = std::move(awaits);
    return t;
}

}  // namespace

TEST_CASE("asyncio: a tree of tasks has no await cycle") {
    std::vector<AsyncTask> tasks = {task(1, {2, 3}), task(2, {4}), task(3, {4}), task(4, {})};
    CHECK(find_await_cycles(tasks).empty());
}

TEST_CASE("asyncio: tasks awaiting each other form one cycle, listed once") {
    // 1 awaits 2, 2 awaits 3, 3 awaits 2 (the cycle); 5 awaits 6 and 6 awaits 5 (another).
    std::vector<AsyncTask> tasks = {task(1, {2}), task(2, {3}), task(3, {2}), task(5, {6}), task(6, {5}),
                                    task(7, {99})};
    auto cycles = find_await_cycles(tasks);
    REQUIRE(cycles.size() == 2);
    CHECK(cycles[0] == std::vector<uint64_t>{2, 3});
    CHECK(cycles[1] == std::vector<uint64_t>{5, 6});
}

namespace {

// The .AsyncioDebug section of Debian's _asyncio for 3.14.10 and of python3.15 3.15.2 (objcopy -O
// binary --only-section=.AsyncioDebug), as 13 uint64 fields.
std::vector<uint8_t> asyncio_debug_bytes(std::vector<uint64_t> fields) {
    std::vector<uint8_t> out(fields.size() * 8);
    std::memcpy(out.data(), fields.data(), out.size());
    return out;
}

const std::vector<uint64_t> kDebian314 = {168, 136, 96, 108, 109, 128, 152, 225864, 10880, 936, 864, 872, 880};
const std::vector<uint64_t> kDebian315 = {168, 136, 96, 108, 109, 128, 152, 226240, 10856, 1104, 1024, 1032, 1048};

}  // namespace

TEST_CASE("asyncio debug offsets of Debian's 3.14 and 3.15: TaskObj fields and the list heads") {
    auto d14 = parse_asyncio_debug(asyncio_debug_bytes(kDebian314));
    REQUIRE(d14);
    CHECK(d14->task_size == 168);
    CHECK(d14->task_node == 152);
    CHECK(d14->task_coro == 128);
    CHECK(d14->interp_tasks_head == 10880);
    CHECK(d14->thread_tasks_head == 880);
    auto d15 = parse_asyncio_debug(asyncio_debug_bytes(kDebian315));
    REQUIRE(d15);
    CHECK(d15->thread_running_task == 1032);
    CHECK(d15->thread_tasks_head == 1048);
}

TEST_CASE("asyncio debug offsets: short or damaged bytes are refused with the field named") {
    auto bytes = asyncio_debug_bytes(kDebian314);
    bytes.resize(72);  // the 3.14 pre-release struct had no list heads
    CHECK(!parse_asyncio_debug(bytes));
    auto fields = kDebian314;
    fields[6] = 160;  // task_node's 16 bytes would end past the 168-byte TaskObj
    auto damaged = parse_asyncio_debug(asyncio_debug_bytes(fields));
    REQUIRE(!damaged);
    CHECK(damaged.error().message.find("task_node") != std::string::npos);
    fields = kDebian314;
    fields[12] = 1 << 20;  // a thread list head outside the thread state
    CHECK(!parse_asyncio_debug(asyncio_debug_bytes(fields)));
}
