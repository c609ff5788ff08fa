#include "python/gc_census.hpp"

#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "python/memory.hpp"

namespace snag::python {

namespace {

constexpr int kGenerations = 3;
constexpr uint64_t kGcHeadSize = 16;    // PyGC_Head {_gc_next, _gc_prev} precedes the object
constexpr uint64_t kPrevFlags = 3;      // _gc_prev's low bits are GC flags
constexpr uint64_t kNextUnreachable = 1;  // set in _gc_next only while a collection runs

struct Walk {
    Walk(Memory& m, const Layout& l, const CensusLimits& c) : mem(m), layout(l), limits(c) {}
    Memory& mem;
    const Layout& layout;
    const CensusLimits& limits;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    std::unordered_map<uint64_t, std::string> names;  // type object → tp_name
    GcCensus out;

    bool over_budget() {
        if (out.objects >= limits.max_objects) return true;
        // The clock is cheap but not free: look at it every 4096 objects.
        if ((out.objects & 4095) != 0) return false;
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() > limits.max_ms;
    }

    const std::string& type_name(uint64_t type) {
        auto it = names.find(type);
        if (it != names.end()) return it->second;
        auto name = mem.cstring(mem.ptr(type + layout.tp_name), 128);
        return names.emplace(type, name && !name->empty() ? *name : "?").first->second;
    }

    // One generation: a circular doubly linked list through the objects' GC headers. Each step
    // checks the back link, so a list torn by a collection in progress stops the walk.
    bool generation(uint64_t head) {
        uint64_t prev = head, node = mem.ptr(head) & ~kNextUnreachable;
        while (node != head) {
            if (node == 0 || (mem.ptr(node + 8) & ~kPrevFlags) != prev) return false;
            if (over_budget()) return false;
            uint64_t type = mem.ptr(node + kGcHeadSize + layout.ob_type);
            if (type == 0) return false;
            out.by_type[type_name(type)]++;
            out.objects++;
            prev = node;
            node = mem.ptr(node) & ~kNextUnreachable;
        }
        return true;
    }
};

// Where each interpreter's generations start: 3.8 keeps one GC state in _PyRuntime, 3.9+ one
// per interpreter; both found from the layout's `collecting` offset.
std::vector<uint64_t> gc_states(Memory& mem, const PythonRuntime& rt) {
    const Layout& l = rt.layout;
    std::vector<uint64_t> states;
    if (l.minor == 8 && rt.gc_collecting_at) return {rt.gc_collecting_at - kGcCollectingInState};
    if (l.is_gc_collecting < 0) return states;
    std::unordered_set<uint64_t> seen;
    for (uint64_t interp = mem.ptr(rt.interp_head_at); interp && states.size() < 64; interp = mem.ptr(interp + l.is_next)) {
        if (!seen.insert(interp).second) break;
        states.push_back(interp + l.is_gc_collecting - kGcCollectingInState);
    }
    return states;
}

}  // namespace

Expected<GcCensus> gc_census(Target& target, const PythonRuntime& runtime, const CensusLimits& limits) {
    const Layout& l = runtime.layout;
    // A free-threaded build links no object into a list: the collector visits every block of the
    // mimalloc heaps of each thread state and of the interpreter's abandoned pool, telling live
    // blocks from free ones by each page's free lists. _Py_DebugOffsets describes none of that.
    if (l.free_threaded)
        return fail("Python heap not measurable on free-threaded CPython " + runtime.version +
                    ": its objects live in per-thread mimalloc heaps, not in GC lists, and snag does not walk those heaps");
    if (l.major != 3 || l.minor < 8 || l.minor > 13)
        return fail("Python heap not measurable: GC lists are read for CPython 3.8-3.13, not " + runtime.version);
    Memory mem(target);
    auto states = gc_states(mem, runtime);
    if (states.empty()) return fail("Python heap not measurable: the GC state of " + runtime.version + " was not found");
    Walk walk{mem, l, limits};
    for (uint64_t state : states) {
        for (int g = 0; g < kGenerations; ++g) {
            uint64_t head = state + kGcGenerationsInState + g * kGcGenerationSize;
            // An intact list head links back to itself through its neighbours.
            uint64_t first = mem.ptr(head), last = mem.ptr(head + 8) & ~kPrevFlags;
            if (!first || !last || (mem.ptr(first + 8) & ~kPrevFlags) != head || (mem.ptr(last) & ~kNextUnreachable) != head) {
                if (walk.out.objects == 0 && g == 0)
                    return fail("Python heap not measurable: generation 0 of " + runtime.version + " is not a GC list");
                walk.out.complete = false;
                continue;
            }
            if (!walk.generation(head)) walk.out.complete = false;
        }
    }
    walk.out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - walk.start).count();
    return std::move(walk.out);
}

}  // namespace snag::python
