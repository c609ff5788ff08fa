#include "symbols/debug_frame.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>

#include <memory>

namespace snag {

namespace {

// x86-64 DWARF register numbers (System V psABI, figure 3.36).
enum : int { kRbx = 3, kRbp = 6, kRsp = 7, kR12 = 12, kR13 = 13, kR14 = 14, kR15 = 15, kReturnAddress = 16 };

std::optional<uint64_t> dwarf_register(const Registers& r, uint64_t regno) {
    switch (regno) {
        case 0: return r.rax;
        case 1: return r.rdx;
        case 2: return r.rcx;
        case 3: return r.rbx;
        case 4: return r.rsi;
        case 5: return r.rdi;
        case 6: return r.rbp;
        case 7: return r.rsp;
        case 8: return r.r8;
        case 9: return r.r9;
        case 10: return r.r10;
        case 11: return r.r11;
        case 12: return r.r12;
        case 13: return r.r13;
        case 14: return r.r14;
        case 15: return r.r15;
        case 16: return r.rip;
        default: return std::nullopt;
    }
}

void set_register(Registers& r, int regno, uint64_t value) {
    switch (regno) {
        case kRbx: r.rbx = value; break;
        case kRbp: r.rbp = value; break;
        case kR12: r.r12 = value; break;
        case kR13: r.r13 = value; break;
        case kR14: r.r14 = value; break;
        case kR15: r.r15 = value; break;
        case kReturnAddress: r.rip = value; break;
        default: break;
    }
}

struct Result {
    uint64_t value = 0;
    bool is_value = false;  // DW_OP_stack_value / DW_OP_regN: the value itself, not where it is
};

// The handful of operations CFI rules use: register plus offset, the CFA plus a constant, a
// dereference. Anything else is not evaluated (nullopt).
std::optional<Result> evaluate(const Dwarf_Op* ops, size_t count, const Registers& regs,
                               std::optional<uint64_t> cfa, const ReadWord& read) {
    uint64_t stack[16];
    size_t depth = 0;
    Result result;
    auto push = [&](uint64_t v) {
        if (depth == 16) return false;
        stack[depth++] = v;
        return true;
    };
    for (size_t i = 0; i < count; ++i) {
        const Dwarf_Op& op = ops[i];
        uint8_t atom = op.atom;
        bool ok = true;
        if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) ok = push(atom - DW_OP_lit0);
        else if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
            auto r = dwarf_register(regs, atom - DW_OP_breg0);
            ok = r && push(*r + int64_t(op.number));
        } else if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31) {
            auto r = dwarf_register(regs, atom - DW_OP_reg0);
            if (!r || i + 1 != count) return std::nullopt;
            return Result{*r, true};
        } else {
            switch (atom) {
                case DW_OP_bregx: {
                    auto r = dwarf_register(regs, op.number);
                    ok = r && push(*r + int64_t(op.number2));
                    break;
                }
                case DW_OP_regx: {
                    auto r = dwarf_register(regs, op.number);
                    if (!r || i + 1 != count) return std::nullopt;
                    return Result{*r, true};
                }
                case DW_OP_call_frame_cfa: ok = cfa && push(*cfa); break;
                case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
                case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s: case DW_OP_const8s:
                case DW_OP_constu: case DW_OP_consts: ok = push(op.number); break;
                case DW_OP_plus_uconst: ok = depth >= 1 && (stack[depth - 1] += op.number, true); break;
                case DW_OP_plus:
                    ok = depth >= 2 && (stack[depth - 2] += stack[depth - 1], --depth, true);
                    break;
                case DW_OP_minus:
                    ok = depth >= 2 && (stack[depth - 2] -= stack[depth - 1], --depth, true);
                    break;
                case DW_OP_deref: ok = depth >= 1 && read(stack[depth - 1], &stack[depth - 1]); break;
                case DW_OP_stack_value:
                    if (i + 1 != count) return std::nullopt;
                    result.is_value = true;
                    break;
                default: return std::nullopt;
            }
        }
        if (!ok) return std::nullopt;
    }
    if (depth == 0) return std::nullopt;
    result.value = stack[depth - 1];
    return result;
}

struct FreeFrame {
    void operator()(Dwarf_Frame* f) const { free(f); }
};

}  // namespace

std::optional<Registers> debug_frame_caller(Dwfl_Module* module, uint64_t lookup_pc, const Registers& regs,
                                            const ReadWord& read) {
    Dwarf_Addr bias = 0;
    Dwarf_CFI* cfi = module ? dwfl_module_dwarf_cfi(module, &bias) : nullptr;
    Dwarf_Frame* raw = nullptr;
    if (!cfi || dwarf_cfi_addrframe(cfi, lookup_pc - bias, &raw) != 0 || !raw) return std::nullopt;
    std::unique_ptr<Dwarf_Frame, FreeFrame> frame(raw);
    Dwarf_Op* ops = nullptr;
    size_t count = 0;
    if (dwarf_frame_cfa(frame.get(), &ops, &count) != 0 || count == 0) return std::nullopt;
    auto cfa = evaluate(ops, count, regs, std::nullopt, read);
    if (!cfa) return std::nullopt;
    Registers caller{};
    caller.rsp = cfa->value;
    for (int regno : {kRbx, kRbp, kR12, kR13, kR14, kR15, kReturnAddress}) {
        Dwarf_Op scratch[3];
        Dwarf_Op* rule = nullptr;
        size_t n = 0;
        if (dwarf_frame_register(frame.get(), regno, scratch, &rule, &n) != 0) return std::nullopt;
        if (n == 0) {
            // same_value keeps this frame's value; undefined leaves 0 (a return address of 0 ends the walk).
            if (!rule) set_register(caller, regno, *dwarf_register(regs, regno));
            continue;
        }
        auto where = evaluate(rule, n, regs, cfa->value, read);
        if (!where) return std::nullopt;
        uint64_t value = where->value;
        if (!where->is_value && !read(where->value, &value)) return std::nullopt;
        set_register(caller, regno, value);
    }
    return caller;
}

}  // namespace snag
