#include "lua/registers.hpp"

#include "command/vector_value.hpp"

#include <cstddef>
#include <cstring>
#include <string>

namespace snag {

namespace {

#define REG(n) {#n, offsetof(Registers, n)}
const RegisterName kGdbOrder[] = {
    REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi), REG(rbp), REG(rsp),
    REG(r8),  REG(r9),  REG(r10), REG(r11), REG(r12), REG(r13), REG(r14), REG(r15),
    REG(rip), REG(eflags), REG(cs), REG(ss), REG(ds), REG(es), REG(fs), REG(gs),
    REG(fs_base), REG(gs_base),
};
#undef REG

uint64_t field(const Registers& regs, size_t offset) {
    uint64_t v;
    std::memcpy(&v, reinterpret_cast<const char*>(&regs) + offset, sizeof v);
    return v;
}

std::optional<uint64_t> full(const Registers& regs, std::string_view name) {
    for (const auto& r : kGdbOrder)
        if (name == r.name) return field(regs, r.offset);
    if (name == "orig_rax") return regs.orig_rax;
    return std::nullopt;
}

// Sub-register views: eax/ax/al for the legacy names, r8d/r8w/r8b for the numbered ones.
std::optional<uint64_t> partial(const Registers& regs, std::string_view name) {
    static const char* legacy[] = {"ax", "bx", "cx", "dx", "si", "di", "bp", "sp"};
    for (const char* base : legacy) {
        std::string b = base;
        if (name == "e" + b) return full(regs, "r" + b).value() & 0xffffffffu;
        if (name == b) return full(regs, "r" + b).value() & 0xffffu;
        bool pointerish = b == "si" || b == "di" || b == "bp" || b == "sp";
        std::string low = pointerish ? b + "l" : std::string(1, b[0]) + "l";
        if (name == low) return full(regs, "r" + b).value() & 0xffu;
    }
    if (name.size() >= 3 && name[0] == 'r') {
        char suffix = name.back();
        auto value = full(regs, name.substr(0, name.size() - 1));
        if (value && suffix == 'd') return *value & 0xffffffffu;
        if (value && suffix == 'w') return *value & 0xffffu;
        if (value && suffix == 'b') return *value & 0xffu;
    }
    return std::nullopt;
}

}  // namespace

const RegisterName* gdb_registers(size_t* count) {
    *count = sizeof kGdbOrder / sizeof kGdbOrder[0];
    return kGdbOrder;
}

std::optional<uint64_t> register_by_name(const Registers& regs, std::string_view name) {
    if (name == "pc") name = "rip";
    else if (name == "sp") name = "rsp";
    else if (name == "fp") name = "rbp";
    if (auto v = full(regs, name)) return v;
    return partial(regs, name);
}

bool is_vector_register(std::string_view name) { return command::vector_register_slot(name).has_value(); }

std::optional<std::string> vector_register(const VectorRegisters& vector, std::string_view name) {
    auto slot = command::vector_register_slot(name);
    if (!slot || (slot->first == 32 && !vector.avx)) return std::nullopt;
    if (slot->first == 4) return std::string(reinterpret_cast<const char*>(&vector.mxcsr), sizeof vector.mxcsr);
    return std::string(reinterpret_cast<const char*>(vector.ymm[slot->second]), slot->first);
}

bool is_callee_saved(std::string_view name) {
    for (const char* r : {"rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15", "pc", "sp", "fp"})
        if (name == r) return true;
    return false;
}

}  // namespace snag
