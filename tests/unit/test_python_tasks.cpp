// asyncio await graph: cycles among tasks (find_await_cycles), without a process.
#include <doctest/doctest.h>

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
