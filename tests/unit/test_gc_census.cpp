// GC census (runtime/python/gc_census): objects per type counted from synthetic GC generation
// rings laid out as CPython 3.12 and 3.8 keep them; torn rings and unknown versions.
#include <doctest/doctest.h>

#include <cstring>
#include <map>

#include "python/gc_census.hpp"
#include "python/layout.hpp"
#include "memory_only_target.hpp"

using namespace snag;
using namespace snag::python;

namespace {

// Memory made of words and strings written by the test; everything else about the target is empty.
class WordTarget : public test::MemoryOnlyTarget {
public:
    // Every address reads (zeros where nothing was written), as a core's heap pages would.
    size_t read(uint64_t addr, void* out, size_t len) override {
        auto* dst = static_cast<uint8_t*>(out);
        for (size_t i = 0; i < len; ++i) {
            auto it = bytes_.find(addr + i);
            dst[i] = it == bytes_.end() ? 0 : it->second;
        }
        return len;
    }
    void u64(uint64_t addr, uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes_[addr + i] = static_cast<uint8_t>(v >> (8 * i));
    }
    void text(uint64_t addr, const std::string& s) {
        for (size_t i = 0; i <= s.size(); ++i) bytes_[addr + i] = i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
    }

private:
    std::map<uint64_t, uint8_t> bytes_;
};

struct Heap {
    WordTarget mem;
    PythonRuntime rt;
    uint64_t next_object = 0x100000;

    uint64_t type(const std::string& name, uint64_t at) {
        mem.text(at + 0x800, name);
        mem.u64(at + rt.layout.tp_name, at + 0x800);
        return at;
    }
    // A ring through the GC headers of objects of the given types; _gc_prev carries flag bits.
    void ring(uint64_t head, const std::vector<uint64_t>& types) {
        std::vector<uint64_t> nodes{head};
        for (uint64_t t : types) {
            uint64_t node = next_object;
            next_object += 0x40;
            mem.u64(node + 16 + rt.layout.ob_type, t);
            nodes.push_back(node);
        }
        for (size_t i = 0; i < nodes.size(); ++i) {
            mem.u64(nodes[i], nodes[(i + 1) % nodes.size()]);
            mem.u64(nodes[i] + 8, nodes[(i + nodes.size() - 1) % nodes.size()] | (i ? 2 : 0));
        }
    }
    uint64_t generation(uint64_t state, int g) { return state + kGcGenerationsInState + g * kGcGenerationSize; }
};

}  // namespace

TEST_CASE("gc census: 3.12 per-interpreter generations, objects counted per tp_name") {
    Heap h;
    h.rt.layout = *builtin_layout(12);
    h.rt.version = "3.12.1";
    uint64_t interp = 0x20000;
    h.rt.interp_head_at = 0x9000;
    h.mem.u64(0x9000, interp);
    h.mem.u64(interp + h.rt.layout.is_next, 0);
    uint64_t state = interp + h.rt.layout.is_gc_collecting - kGcCollectingInState;
    uint64_t record = h.type("AuditRecord", 0x50000), list = h.type("list", 0x60000), dict = h.type("dict", 0x70000);
    h.ring(h.generation(state, 0), {record, list, record});
    h.ring(h.generation(state, 1), {});
    h.ring(h.generation(state, 2), {dict, record});
    auto census = gc_census(h.mem, h.rt);
    REQUIRE_MESSAGE(census, (census ? "" : census.error().message));
    CHECK(census->objects == 5);
    CHECK(census->complete);
    CHECK(census->by_type == std::map<std::string, uint64_t>{{"AuditRecord", 3}, {"dict", 1}, {"list", 1}});

    SUBCASE("a ring torn mid-walk stops there and says the census is incomplete") {
        uint64_t second = h.mem.read_u64(h.mem.read_u64(h.generation(state, 2)).value()).value();
        h.mem.u64(second + 8, 0x1234);  // its back link no longer names the object before it
        auto torn = gc_census(h.mem, h.rt);
        REQUIRE(torn);
        CHECK_FALSE(torn->complete);
        CHECK(torn->objects == 4);
    }
    SUBCASE("the object limit stops the walk") {
        auto limited = gc_census(h.mem, h.rt, CensusLimits{2, 1000});
        REQUIRE(limited);
        CHECK_FALSE(limited->complete);
        CHECK(limited->objects == 2);
    }
}

TEST_CASE("gc census: 3.8 keeps one GC state in _PyRuntime") {
    Heap h;
    h.rt.layout = *builtin_layout(8);
    h.rt.version = "3.8.18";
    h.rt.runtime = 0x30000;
    h.rt.gc_collecting_at = h.rt.runtime + h.rt.layout.rt_gc_collecting;
    uint64_t state = h.rt.gc_collecting_at - kGcCollectingInState;
    CHECK(state == h.rt.runtime + 0x158);  // offsetof(_PyRuntimeState, gc) in 3.8.18's DWARF
    uint64_t t = h.type("Session", 0x50000);
    for (int g = 0; g < 3; ++g) h.ring(h.generation(state, g), g == 1 ? std::vector<uint64_t>{t, t} : std::vector<uint64_t>{});
    auto census = gc_census(h.mem, h.rt);
    REQUIRE_MESSAGE(census, (census ? "" : census.error().message));
    CHECK(census->by_type == std::map<std::string, uint64_t>{{"Session", 2}});
}

TEST_CASE("gc census: versions without known GC lists, and memory that is no GC list, are not measurable") {
    Heap h;
    h.rt.layout = *builtin_layout(7);
    h.rt.version = "3.7.16";
    auto old = gc_census(h.mem, h.rt);
    REQUIRE_FALSE(old);
    CHECK(old.error().message.find("not measurable") != std::string::npos);
    h.rt.layout = *builtin_layout(12);
    h.rt.version = "3.12.1";
    h.rt.interp_head_at = 0x9000;
    h.mem.u64(0x9000, 0x20000);
    auto garbage = gc_census(h.mem, h.rt);
    REQUIRE_FALSE(garbage);
    CHECK(garbage.error().message.find("not a GC list") != std::string::npos);
}

TEST_CASE("gc census: a free-threaded build is refused with the reason, even with GC lists in memory") {
    Heap h;
    h.rt.layout = *builtin_layout(13);
    h.rt.layout.free_threaded = true;
    h.rt.version = "3.13.5";
    h.rt.interp_head_at = 0x9000;
    h.mem.u64(0x9000, 0x20000);
    uint64_t state = 0x20000 + h.rt.layout.is_gc_collecting - kGcCollectingInState;
    uint64_t t = h.type("Session", 0x50000);
    for (int g = 0; g < 3; ++g) h.ring(h.generation(state, g), {t});
    auto census = gc_census(h.mem, h.rt);
    REQUIRE_FALSE(census);
    CHECK(census.error().message ==
          "Python heap not measurable on free-threaded CPython 3.13.5: its objects live in per-thread mimalloc heaps, "
          "not in GC lists, and snag does not walk those heaps");
}
