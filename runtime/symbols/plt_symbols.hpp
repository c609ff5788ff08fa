// gdb's synthetic `name@plt` symbols: a module's PLT stubs (.plt, .plt.sec, .plt.got), named after
// the relocation that fills the GOT slot each one jumps through, so `x/i`, `disassemble` and `x/a` can say `call 0x1030 <getenv@plt>`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "symbols/module.hpp"

namespace snag {

struct PltStub {
    uint64_t start = 0;  // runtime address
    uint64_t size = 0;
    std::string name;    // "getenv@plt"
};

// Sorted by start; empty when the file is missing, differs from the target's, or has no PLT.
std::vector<PltStub> plt_stubs(const Module& module);

}  // namespace snag
