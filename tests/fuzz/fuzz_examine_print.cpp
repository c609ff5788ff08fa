// libFuzzer harness: `x` and `print` formatting (every format and unit, strings, instructions,
// struct members through pointers, printf) over damaged memory: the bytes of a thread's stack.
//
// Input: u64 base address (the memory starts there and $rsp/$sp point at it), 8 selector bytes
// for one free-form x command, then the memory. Outside it every read fails, like a hole in a
// core. Seeds are stack pages of real cores (run_fuzz.py).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "../unit/fake_command_host.hpp"
#include "command/interpreter.hpp"

namespace {

constexpr size_t kHeader = 16;

// The fake host with one contiguous block of memory instead of its byte map.
class StackHost : public snag::command::testing::FakeHost {
public:
    uint64_t base = 0;
    std::string_view bytes;

    snag::Expected<std::string> read_memory(uint64_t addr, size_t n) override {
        if (addr < base || addr - base > bytes.size() || n > bytes.size() - (addr - base))
            return snag::fail("Cannot access memory at address " + std::to_string(addr));
        return std::string(bytes.substr(addr - base, n));
    }
};

const char* const kCommands[] = {
    "x/64xg $rsp", "x/32a $rsp", "x/24s $rsp", "x/40c $rsp", "x/20dw $rsp", "x/12f $rsp", "x/8tb $rsp",
    "x/8ob $rsp", "x/8zh $rsp", "x/8uw $rsp", "x/16i $pc", "x/4i *(void **)$rsp", "x/s *(char **)$rsp",
    "x", "print *(struct point *)$rsp", "print ((struct point *)$rsp)->y", "print/x *(struct point *)$rsp",
    "print (char *)*(long *)$rsp", "print *(char **)($rsp + 8)", "print/c *(char *)$rsp",
    "print/t *(long *)$rsp", "print/a *(void **)$rsp", "print/f *(double *)$rsp", "print/s *(char **)$rsp",
    "print *(myint *)$rsp", "print $_", "print $__", "output *(struct point *)$rsp",
    "printf \"%s|%d|%c|%p|%lu|%f\\n\", *(char **)$rsp, *(int *)$rsp, *(char *)$rsp, $rsp, *(long *)$rsp, "
    "*(double *)$rsp",
};

// One x command built from the selectors: any count, format, unit and offset into the memory.
std::string free_command(const uint8_t* sel) {
    static const char formats[] = "xduotacfsiz";
    static const char units[] = "bhwg";
    uint32_t count = (uint32_t{sel[0]} | uint32_t{sel[1]} << 8) % 300;
    std::string cmd = "x/" + std::to_string(count) + formats[sel[2] % (sizeof formats - 1)] +
                      units[sel[3] % (sizeof units - 1)] + " $rsp + " + std::to_string(sel[4] | sel[5] << 8);
    return cmd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < kHeader || size > kHeader + 65536) return 0;
    StackHost host;
    std::memcpy(&host.base, data, 8);
    host.bytes = std::string_view(reinterpret_cast<const char*>(data + kHeader), size - kHeader);
    uint64_t word = 0;
    if (host.bytes.size() >= 16) std::memcpy(&word, host.bytes.data() + 8, 8);
    host.registers = {{"rsp", host.base}, {"sp", host.base}, {"rip", word}, {"pc", word}, {"rbp", host.base + 16}};
    host.symbols = {{"frame", host.base}};
    host.sizes = {{"frame", 64}};
    snag::command::Interpreter interp(host);
    std::ostringstream out;
    for (const char* command : kCommands) (void)interp.execute(command, out);
    (void)interp.execute(free_command(data + 8), out);
    return 0;
}
