// GC Census: how many objects of each type the cyclic GC tracks (instances of classes, lists,
// dicts...), counted by walking the generation lists of a stopped interpreter. Two censuses
// taken an interval apart show which kinds of objects a leaking process accumulates.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "python/runtime_discovery.hpp"
#include "target/target.hpp"

namespace snag::python {

struct GcCensus {
    std::map<std::string, uint64_t> by_type;  // tp_name → objects tracked
    uint64_t objects = 0;
    bool complete = true;  // false when a limit stopped the walk (counts are a lower bound)
    double ms = 0;         // time the walk took (the target is stopped meanwhile)
};

struct CensusLimits {
    uint64_t max_objects = 2'000'000;
    double max_ms = 400;
};

// Counts the objects of every GC generation (not the permanent one) of every interpreter.
// CPython 3.8-3.13 with the GIL; the error says why other builds are not measurable.
Expected<GcCensus> gc_census(Target& target, const PythonRuntime& runtime, const CensusLimits& limits = {});

// Where generation 0's list head lives, given where `gc.collecting` is: the field sits 0xc8
// bytes into struct _gc_runtime_state and the generations 0x18 bytes in, in 3.8 to 3.13.
constexpr int64_t kGcCollectingInState = 0xc8, kGcGenerationsInState = 0x18, kGcGenerationSize = 24;

}  // namespace snag::python
