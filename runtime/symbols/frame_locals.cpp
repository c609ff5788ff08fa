#include "symbols/frame_locals.hpp"

#include "base/hex.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "symbols/dwarf_value_text.hpp"
#include "symbols/tail_calls.hpp"

namespace snag {

namespace {

const char* kOptimizedOut = "<optimized out>";

// A DWARF register (x86_64 SysV numbering) of the frame; nullopt when the frame does not
// have it (an outer frame recovers only the callee-saved registers).
std::optional<uint64_t> dwarf_register(const FrameState& f, uint64_t regno) {
    const Registers& r = f.regs;
    switch (regno) {
        case 3: return r.rbx;
        case 6: return r.rbp;
        case 7: return r.rsp;
        case 12: return r.r12;
        case 13: return r.r13;
        case 14: return r.r14;
        case 15: return r.r15;
        case 16: return r.rip;
        default: break;
    }
    if (!f.innermost) return std::nullopt;
    switch (regno) {
        case 0: return r.rax;
        case 1: return r.rdx;
        case 2: return r.rcx;
        case 4: return r.rsi;
        case 5: return r.rdi;
        case 8: return r.r8;
        case 9: return r.r9;
        case 10: return r.r10;
        case 11: return r.r11;
        default: return std::nullopt;
    }
}

// Where a location expression put the value.
struct Location {
    enum Kind { Unavailable, Memory, Value, Bytes } kind = Unavailable;
    uint64_t number = 0;  // Memory: address; Value: the value itself
    std::string bytes;    // Bytes: DW_OP_implicit_value
};

struct Evaluation {
    const FrameState& frame;
    uint64_t bias;
    std::optional<uint64_t> frame_base;
    const std::function<bool(uint64_t, void*, size_t)>& read;
    Dwarf_Attribute* attr;  // for DW_OP_implicit_value's and DW_OP_entry_value's blocks
    // A DWARF register's value at the entry of the frame's function, from its caller; unset: unknown.
    std::function<std::optional<uint64_t>(int64_t)> entry_register = nullptr;
};

std::optional<int64_t> register_of(const Dwarf_Op& op) {
    if (op.atom >= DW_OP_reg0 && op.atom <= DW_OP_reg31) return op.atom - DW_OP_reg0;
    if (op.atom == DW_OP_regx) return static_cast<int64_t>(op.number);
    return std::nullopt;
}

// DW_OP_entry_value(DW_OP_regN), the only form GCC emits for values (gdb also takes a
// dereferenced register, for references, which needs DW_AT_call_data_value).
std::optional<uint64_t> entry_register_value(const Dwarf_Op& op, const Evaluation& ev) {
    Dwarf_Attribute block;
    Dwarf_Op* ops;
    size_t n;
    if (!ev.entry_register || !ev.attr || dwarf_getlocation_attr(ev.attr, &op, &block) != 0 ||
        dwarf_getlocation(&block, &ops, &n) != 0 || n != 1)
        return std::nullopt;
    auto reg = register_of(ops[0]);
    return reg ? ev.entry_register(*reg) : std::nullopt;
}

// The common operations of -O0 and -O2 code; anything else makes the value unavailable.
Location evaluate(const Dwarf_Op* ops, size_t n, const Evaluation& ev) {
    std::vector<uint64_t> stack;
    auto pop = [&](uint64_t& v) {
        if (stack.empty()) return false;
        v = stack.back();
        stack.pop_back();
        return true;
    };
    for (size_t i = 0; i < n; ++i) {
        const Dwarf_Op& op = ops[i];
        uint8_t a = op.atom;
        uint64_t x = 0, y = 0;
        if (a >= DW_OP_lit0 && a <= DW_OP_lit31) {
            stack.push_back(a - DW_OP_lit0);
        } else if (a >= DW_OP_reg0 && a <= DW_OP_reg31) {
            bool last = i + 1 == n || (i + 2 == n && ops[i + 1].atom == DW_OP_piece);
            auto v = dwarf_register(ev.frame, a - DW_OP_reg0);
            if (!last || !v) return {};
            return {Location::Value, *v, {}};
        } else if (a == DW_OP_regx) {
            auto v = dwarf_register(ev.frame, op.number);
            if (i + 1 != n || !v) return {};
            return {Location::Value, *v, {}};
        } else if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
            auto v = dwarf_register(ev.frame, a - DW_OP_breg0);
            if (!v) return {};
            stack.push_back(*v + op.number);
        } else if (a == DW_OP_bregx) {
            auto v = dwarf_register(ev.frame, op.number);
            if (!v) return {};
            stack.push_back(*v + op.number2);
        } else {
            switch (a) {
                case DW_OP_addr: stack.push_back(op.number + ev.bias); break;
                case DW_OP_fbreg:
                    if (!ev.frame_base) return {};
                    stack.push_back(*ev.frame_base + op.number);
                    break;
                case DW_OP_call_frame_cfa:
                    if (!ev.frame.cfa) return {};
                    stack.push_back(ev.frame.cfa);
                    break;
                case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u:
                case DW_OP_constu: case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s:
                case DW_OP_const8s: case DW_OP_consts: stack.push_back(op.number); break;
                case DW_OP_plus_uconst:
                    if (!pop(x)) return {};
                    stack.push_back(x + op.number);
                    break;
                case DW_OP_plus: case DW_OP_minus: case DW_OP_and: case DW_OP_or: case DW_OP_mul:
                    if (!pop(y) || !pop(x)) return {};
                    stack.push_back(a == DW_OP_plus ? x + y : a == DW_OP_minus ? x - y : a == DW_OP_and ? x & y
                                    : a == DW_OP_or ? x | y : x * y);
                    break;
                case DW_OP_deref:
                    if (!pop(x) || !ev.read(x, &y, 8)) return {};
                    stack.push_back(y);
                    break;
                case DW_OP_stack_value:
                    if (!pop(x)) return {};
                    return {Location::Value, x, {}};
                case DW_OP_implicit_value: {
                    Dwarf_Block block;
                    if (dwarf_getlocation_implicit_value(ev.attr, &op, &block) != 0) return {};
                    return {Location::Bytes, 0, std::string(reinterpret_cast<const char*>(block.data), block.length)};
                }
                case DW_OP_piece:
                    if (i + 1 != n) return {};  // several pieces: not done
                    break;
                case DW_OP_entry_value: case DW_OP_GNU_entry_value: {
                    auto v = entry_register_value(op, ev);
                    if (!v) return {};
                    stack.push_back(*v);
                    break;
                }
                default: return {};  // parameter refs, typed stack ops...
            }
        }
    }
    if (stack.empty()) return {};
    return {Location::Memory, stack.back(), {}};
}

// The frame base of the function (DW_AT_frame_base), usually DW_OP_call_frame_cfa.
std::optional<uint64_t> frame_base(Dwarf_Die* function, uint64_t rel_pc, const Evaluation& ev) {
    Dwarf_Attribute attr;
    Dwarf_Op* ops;
    size_t n;
    if (!dwarf_attr(function, DW_AT_frame_base, &attr) || dwarf_getlocation_addr(&attr, rel_pc, &ops, &n, 1) != 1)
        return std::nullopt;
    Evaluation base{ev.frame, ev.bias, std::nullopt, ev.read, &attr, ev.entry_register};
    Location loc = evaluate(ops, n, base);
    if (loc.kind == Location::Memory || loc.kind == Location::Value) return loc.number;
    return std::nullopt;
}

// DW_AT_const_value: a variable the compiler folded into a constant.
std::optional<std::string> constant_bytes(Dwarf_Die* var, size_t size) {
    Dwarf_Attribute attr;
    if (!dwarf_attr_integrate(var, DW_AT_const_value, &attr)) return std::nullopt;
    Dwarf_Block block;
    if (dwarf_formblock(&attr, &block) == 0) return std::string(reinterpret_cast<const char*>(block.data), block.length);
    Dwarf_Sword v;
    if (dwarf_formsdata(&attr, &v) != 0) return std::nullopt;
    std::string bytes(size, '\0');
    std::memcpy(bytes.data(), &v, std::min(size, sizeof v));
    return bytes;
}

// The variable's text; *address is set when it lives in memory.
std::string variable_text(Dwarf_Die* var, uint64_t rel_pc, const Evaluation& ev, const ValuePrinter& printer,
                          std::optional<uint64_t>* address) {
    Dwarf_Die type;
    if (!type_of(var, &type)) return kOptimizedOut;
    size_t size = type_size(&type).value_or(0);
    if (size == 0) return kOptimizedOut;
    // gdb's max-value-size: a huge local array is not read whole for 200 elements.
    if (size > 65536)
        return "<error: value requires " + std::to_string(size) + " bytes, which is more than max-value-size>";
    if (auto bytes = constant_bytes(var, size)) return printer.text(&type, *bytes);
    Dwarf_Attribute attr;
    Dwarf_Op* ops;
    size_t n;
    if (!dwarf_attr(var, DW_AT_location, &attr) || dwarf_getlocation_addr(&attr, rel_pc, &ops, &n, 1) != 1 || n == 0)
        return kOptimizedOut;
    Evaluation here{ev.frame, ev.bias, ev.frame_base, ev.read, &attr, ev.entry_register};
    Location loc = evaluate(ops, n, here);
    std::string bytes(size, '\0');
    switch (loc.kind) {
        case Location::Unavailable: return kOptimizedOut;
        case Location::Memory:
            *address = loc.number;
            if (!ev.read(loc.number, bytes.data(), size))
                return "<error: Cannot access memory at address " + hex(loc.number) + ">";
            break;
        case Location::Value: std::memcpy(bytes.data(), &loc.number, std::min(size, sizeof loc.number)); break;
        case Location::Bytes: bytes = loc.bytes; bytes.resize(size, '\0'); break;
    }
    return printer.text(&type, bytes);
}

bool is_reference(Dwarf_Die* type) {
    int tag = dwarf_tag(type);
    return tag == DW_TAG_reference_type || tag == DW_TAG_rvalue_reference_type;
}

// Where an argument is at its function's entry, when that is a register or a stack slot a call
// site can bind (gdb's value_of_dwarf_block_entry); constants and computed places have no entry value.
bool entry_slot(Dwarf_Die* param, uint64_t entry_rel, FrameLocals::Slot* slot) {
    Dwarf_Attribute attr;
    Dwarf_Op* ops;
    size_t n;
    if (dwarf_attr_integrate(param, DW_AT_const_value, &attr) || !dwarf_attr(param, DW_AT_location, &attr) ||
        dwarf_getlocation_addr(&attr, entry_rel, &ops, &n, 1) != 1 || n != 1)
        return false;
    if (auto reg = register_of(ops[0])) *slot = {true, *reg};
    else if (ops[0].atom == DW_OP_fbreg) *slot = {false, static_cast<int64_t>(ops[0].number)};
    else return false;
    return true;
}

// Does this DW_TAG_call_site_parameter set that slot (DW_OP_regN, or DW_OP_breg7 off: rsp-based)?
bool binds(Dwarf_Die* param, const FrameLocals::Slot& slot) {
    Dwarf_Attribute attr;
    Dwarf_Op* ops;
    size_t n;
    if (!dwarf_attr(param, DW_AT_location, &attr) || dwarf_getlocation(&attr, &ops, &n) != 0 || n != 1) return false;
    if (slot.is_register) return register_of(ops[0]) == slot.number;
    return ops[0].atom == DW_OP_breg7 && static_cast<int64_t>(ops[0].number) == slot.number;
}

bool uses_frame_base(const Dwarf_Op* ops, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (ops[i].atom == DW_OP_fbreg) return true;
    return false;
}

// What a pointer variable points to as C spells it, typedefs kept ("PyObject", "struct timespec");
// "" otherwise.
std::string pointee_name(Dwarf_Die* var) {
    Dwarf_Die type, target;
    if (!type_of(var, &type)) return "";
    while (dwarf_tag(&type) == DW_TAG_const_type || dwarf_tag(&type) == DW_TAG_volatile_type)
        if (!type_of(&type, &type)) return "";
    if (dwarf_tag(&type) != DW_TAG_pointer_type || !type_of(&type, &target)) return "";
    const char* name = dwarf_diename(&target);
    if (!name) return "";
    int tag = dwarf_tag(&target);
    const char* keyword = tag == DW_TAG_structure_type ? "struct " : tag == DW_TAG_union_type ? "union "
                        : tag == DW_TAG_enumeration_type ? "enum " : "";
    return keyword + std::string(name);
}

bool is_function_scope(Dwarf_Die* die) {
    int tag = dwarf_tag(die);
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

// Appends the scope DIEs under parent that contain pc, outermost first (C++ functions sit in
// namespaces, which have no address ranges of their own).
bool find_scopes(Dwarf_Die* parent, uint64_t pc, std::vector<Dwarf_Die>& chain, int depth) {
    Dwarf_Die child;
    if (depth > 64 || dwarf_child(parent, &child) != 0) return false;
    do {
        int tag = dwarf_tag(&child);
        if ((is_function_scope(&child) || tag == DW_TAG_lexical_block) && dwarf_haspc(&child, pc) == 1) {
            chain.push_back(child);
            find_scopes(&child, pc, chain, depth + 1);  // child, not chain.back(): chain grows
            return true;
        }
        if (tag == DW_TAG_namespace && find_scopes(&child, pc, chain, depth + 1)) return true;
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
}

// The function, inlined-call and block DIEs containing pc, innermost first. dwarf_getscopes
// finds none in GCC's LTO units (concrete functions whose abstract origins live in other units).
std::vector<Dwarf_Die> containing_scopes(Dwarf_Die* cu, uint64_t pc) {
    std::vector<Dwarf_Die> chain;
    find_scopes(cu, pc, chain, 0);
    return {chain.rbegin(), chain.rend()};
}

// The unit holding pc: from .debug_aranges, else by asking each unit (aranges can be partial).
bool unit_of(Dwarf* dw, uint64_t pc, Dwarf_Die* cu) {
    if (dwarf_addrdie(dw, pc, cu)) return true;
    Dwarf_Off offset = 0, next;
    size_t header;
    while (dwarf_nextcu(dw, offset, &next, &header, nullptr, nullptr, nullptr) == 0) {
        if (dwarf_offdie(dw, offset + header, cu) && dwarf_haspc(cu, pc) == 1) return true;
        offset = next;
    }
    return false;
}

}  // namespace

FrameLocals::FrameLocals(Target& target, Symbolic symbolic, DwarfSource dwarf, CallSites sites)
    : target_(target), symbolic_(std::move(symbolic)), dwarf_(std::move(dwarf)), sites_(std::move(sites)) {}

FrameLocals::~FrameLocals() {
    for (auto& [path, handle] : open_) {
        if (handle.second) dwarf_end(handle.second);
        if (handle.first >= 0) ::close(handle.first);
    }
}

Dwarf* FrameLocals::dwarf_of(const Module& module) {
    const std::string& path = !module.debug_file.empty() ? module.debug_file : module.local_path;
    if (module.debug_source == DebugSource::None || path.empty() || !module.file_matches) return nullptr;
    if (dwarf_)
        if (Dwarf* shared = dwarf_(module)) return shared;
    auto it = open_.find(path);
    if (it != open_.end()) return it->second.second;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    Dwarf* dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : nullptr;
    open_[path] = {fd, dw};
    return dw;
}

// The frame base (DW_AT_frame_base) of the function a caller frame is in, for DW_OP_fbreg in
// its call site values (the address of a local passed by pointer).
std::optional<uint64_t> FrameLocals::caller_frame_base(const CallerFrame& caller) {
    Dwarf* dw = caller.module ? dwarf_of(*caller.module) : nullptr;
    if (!dw) return std::nullopt;
    uint64_t rel = (caller.state.call_site ? caller.state.pc - 1 : caller.state.pc) - caller.module->bias;
    Dwarf_Die cu;
    if (!unit_of(dw, rel, &cu)) return std::nullopt;
    std::vector<Dwarf_Die> scopes = containing_scopes(&cu, rel);
    auto read = std::function<bool(uint64_t, void*, size_t)>(
        [this](uint64_t addr, void* out, size_t n) { return target_.read(addr, out, n) == n; });
    Evaluation ev{caller.state, caller.module->bias, std::nullopt, read, nullptr};
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it)
        if (dwarf_tag(&*it) == DW_TAG_subprogram) return frame_base(&*it, rel, ev);
    return std::nullopt;
}

std::optional<uint64_t> FrameLocals::value_at_entry(uint64_t function_entry, Slot slot,
                                                    std::span<const CallerFrame> callers, int depth) {
    TailCalls* sites = sites_ ? sites_() : nullptr;
    if (!sites || callers.empty() || depth > 8) return std::nullopt;
    const CallerFrame& caller = callers[0];
    const TailCalls::Site* site = caller.module ? sites->site_at(caller.state.pc) : nullptr;
    if (!site) return std::nullopt;
    Dwarf_Die die = site->die;
    auto read = std::function<bool(uint64_t, void*, size_t)>(
        [this](uint64_t addr, void* out, size_t n) { return target_.read(addr, out, n) == n; });
    uint64_t caller_entry = site->owner_entry;
    Evaluation ev{caller.state, site->bias, std::nullopt, read, nullptr,
                  [&, caller_entry](int64_t reg) {
                      return value_at_entry(caller_entry, Slot{true, reg}, callers.subspan(1), depth + 1);
                  }};
    Dwarf_Attribute attr;
    Dwarf_Op* ops;
    size_t n;
    std::optional<uint64_t> target = sites->target_of(*site);
    // An indirect call: gdb evaluates DW_AT_call_target in the caller's frame.
    if (!target && (dwarf_attr(&die, DW_AT_call_target, &attr) || dwarf_attr(&die, DW_AT_GNU_call_site_target, &attr)) &&
        dwarf_getlocation(&attr, &ops, &n) == 0 && n > 0) {
        ev.attr = &attr;
        if (uses_frame_base(ops, n)) ev.frame_base = caller_frame_base(caller);
        Location loc = evaluate(ops, n, ev);
        if (loc.kind == Location::Memory || loc.kind == Location::Value) target = loc.number;
    }
    if (!target || *target != function_entry || sites->may_call_itself(function_entry)) return std::nullopt;
    Dwarf_Die param;
    if (dwarf_child(&die, &param) != 0) return std::nullopt;
    do {
        int tag = dwarf_tag(&param);
        if ((tag != DW_TAG_call_site_parameter && tag != DW_TAG_GNU_call_site_parameter) || !binds(&param, slot))
            continue;
        if ((!dwarf_attr(&param, DW_AT_call_value, &attr) && !dwarf_attr(&param, DW_AT_GNU_call_site_value, &attr)) ||
            dwarf_getlocation(&attr, &ops, &n) != 0 || n == 0)
            return std::nullopt;
        // A value, not a place: gdb appends DW_OP_stack_value, which a register location refuses.
        for (size_t i = 0; i < n; ++i)
            if (register_of(ops[i]) || ops[i].atom == DW_OP_piece) return std::nullopt;
        ev.attr = &attr;
        ev.frame_base = uses_frame_base(ops, n) ? caller_frame_base(caller) : std::nullopt;
        Location loc = evaluate(ops, n, ev);
        if (loc.kind == Location::Memory || loc.kind == Location::Value) return loc.number;
        if (loc.kind == Location::Bytes && loc.bytes.size() <= 8) {
            uint64_t v = 0;
            std::memcpy(&v, loc.bytes.data(), loc.bytes.size());
            return v;
        }
        return std::nullopt;
    } while (dwarf_siblingof(&param, &param) == 0);
    return std::nullopt;
}

std::string frame_line_value(const std::string& value) { return value.starts_with("{") ? "..." : value; }

std::optional<std::vector<LocalVariable>> FrameLocals::locals(const Module& module, const FrameState& frame,
                                                              size_t inline_depth, Kind kind,
                                                              std::span<const CallerFrame> callers) {
    Dwarf* dw = dwarf_of(module);
    if (!dw) return std::nullopt;
    uint64_t rel = (frame.call_site ? frame.pc - 1 : frame.pc) - module.bias;
    Dwarf_Die cu;
    if (!unit_of(dw, rel, &cu)) return std::nullopt;
    std::vector<Dwarf_Die> scopes = containing_scopes(&cu, rel);
    if (scopes.empty()) return std::nullopt;
    // Function-like scopes separate the logical (inlined) frames; the outermost subprogram
    // holds the frame base.
    std::vector<Dwarf_Die*> mine;
    Dwarf_Die* physical = nullptr;
    size_t depth = 0;
    for (auto& scope : scopes) {
        if (depth == inline_depth) mine.push_back(&scope);
        if (dwarf_tag(&scope) == DW_TAG_subprogram) physical = &scope;
        if (is_function_scope(&scope)) ++depth;
    }
    auto read = std::function<bool(uint64_t, void*, size_t)>(
        [this](uint64_t addr, void* out, size_t n) { return target_.read(addr, out, n) == n; });
    Evaluation ev{frame, module.bias, std::nullopt, read, nullptr};
    // Entry values belong to the physical function (inlined frames share its caller), as in gdb.
    TailCalls* sites = sites_ && !callers.empty() ? sites_() : nullptr;
    uint64_t entry = sites ? sites->function_entry(rel + module.bias).value_or(0) : 0;  // 0: unknown
    if (entry)
        ev.entry_register = [&, entry](int64_t reg) { return value_at_entry(entry, Slot{true, reg}, callers); };
    if (physical) ev.frame_base = frame_base(physical, rel, ev);
    ValuePrinter printer{read, symbolic_};
    // Arguments are the formal parameters of the frame's function (the last scope of it).
    if (kind == Kind::Arguments) {
        if (mine.empty() || !is_function_scope(mine.back())) return std::vector<LocalVariable>{};
        mine = {mine.back()};
    }
    // gdb's read_variable_at_entry: the argument's place at the function's entry, bound by the call.
    auto entry_text = [&](Dwarf_Die* param, uint64_t at) -> std::optional<std::string> {
        Dwarf_Die type;
        Slot slot;
        if (!entry_slot(param, at - module.bias, &slot) || !type_of(param, &type) || is_reference(&type))
            return std::nullopt;
        size_t size = type_size(&type).value_or(0);
        if (size == 0 || size > 8) return std::nullopt;
        auto value = value_at_entry(at, slot, callers);
        if (!value) return std::nullopt;
        std::string bytes(size, '\0');
        std::memcpy(bytes.data(), &*value, size);
        return printer.text(&type, bytes);
    };
    int wanted = kind == Kind::Arguments ? DW_TAG_formal_parameter : DW_TAG_variable;
    std::vector<LocalVariable> out;
    for (Dwarf_Die* scope : mine) {
        Dwarf_Die child;
        if (dwarf_child(scope, &child) != 0) continue;
        do {
            if (dwarf_tag(&child) != wanted) continue;
            const char* name = dwarf_diename(&child);
            if (!name) continue;
            LocalVariable var{name, "", std::nullopt, pointee_name(&child), "", std::nullopt};
            var.value = variable_text(&child, rel, ev, printer, &var.address);
            Dwarf_Die type;
            if (type_of(&child, &type)) var.type = type_spelling(&type);
            out.push_back(std::move(var));
            if (kind == Kind::Arguments && entry) out.back().entry_value = entry_text(&child, entry);
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    return out;
}

}  // namespace snag
