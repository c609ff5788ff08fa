// Coverage for libFuzzer in a GCC build: GCC's -fsanitize-coverage=trace-pc calls this hook at
// every basic block; it feeds a table of 8-bit counters that libFuzzer reads as inline counters.
// (clang's libFuzzer runtime is linked with its own trace-pc hook weakened, see CMakeLists.txt.)
#include <cstddef>
#include <cstdint>

extern "C" void __sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop);
extern "C" void __sanitizer_cov_pcs_init(const uintptr_t* start, const uintptr_t* stop);

namespace {

constexpr size_t kCounters = 1 << 18;
uint8_t counters[kCounters];
uintptr_t pc_table[2 * kCounters];  // (pc, flags) pairs: one fake PC per counter

struct Register {
    Register() {
        for (size_t i = 0; i < kCounters; ++i) pc_table[2 * i] = i + 1;
        __sanitizer_cov_8bit_counters_init(counters, counters + kCounters);
        __sanitizer_cov_pcs_init(pc_table, pc_table + 2 * kCounters);
    }
} registered;

}  // namespace

extern "C" __attribute__((no_sanitize_address)) void __sanitizer_cov_trace_pc() {
    auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
    ++counters[(pc ^ (pc >> 18)) & (kCounters - 1)];
}

// GCC's trace-cmp also reports float comparisons, which libFuzzer has no hooks for.
extern "C" void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" void __sanitizer_cov_trace_cmpd(double, double) {}
