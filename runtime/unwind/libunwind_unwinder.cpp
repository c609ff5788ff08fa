// Unwinder over libunwind's remote API: our accessors read the Target, so live processes and
// cores share one code path; CFI comes from each module's .eh_frame_hdr found on disk.
#include <libunwind.h>

#include <cstring>
#include <map>

#include "unwind/page_cache.hpp"
#include "unwind/unwind_table.hpp"
#include "unwind/unwinder.hpp"

// Exported by libunwind-x86_64 but not declared in its public headers.
extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
                                                  unw_dyn_info_t* di, unw_proc_info_t* pi,
                                                  int need_unwind_info, void* arg);

namespace snag {
namespace {

class LibunwindUnwinder;

// What the accessors need while one thread is unwound (libunwind's opaque "arg").
struct WalkContext {
    LibunwindUnwinder* unwinder;
    const Registers* regs;     // where the cursor started (the thread's, or a .debug_frame step's)
    bool missing_cfi = false;  // set when find_proc_info had nothing for an ip
    Registers restart{};       // registers of the last restart from .debug_frame
};

bool register_value(const Registers& r, unw_regnum_t reg, unw_word_t* out) {
    switch (reg) {
        case UNW_X86_64_RAX: *out = r.rax; return true;
        case UNW_X86_64_RDX: *out = r.rdx; return true;
        case UNW_X86_64_RCX: *out = r.rcx; return true;
        case UNW_X86_64_RBX: *out = r.rbx; return true;
        case UNW_X86_64_RSI: *out = r.rsi; return true;
        case UNW_X86_64_RDI: *out = r.rdi; return true;
        case UNW_X86_64_RBP: *out = r.rbp; return true;
        case UNW_X86_64_RSP: *out = r.rsp; return true;
        case UNW_X86_64_R8: *out = r.r8; return true;
        case UNW_X86_64_R9: *out = r.r9; return true;
        case UNW_X86_64_R10: *out = r.r10; return true;
        case UNW_X86_64_R11: *out = r.r11; return true;
        case UNW_X86_64_R12: *out = r.r12; return true;
        case UNW_X86_64_R13: *out = r.r13; return true;
        case UNW_X86_64_R14: *out = r.r14; return true;
        case UNW_X86_64_R15: *out = r.r15; return true;
        case UNW_X86_64_RIP: *out = r.rip; return true;
        default: return false;
    }
}

class LibunwindUnwinder final : public Unwinder {
public:
    LibunwindUnwinder(Target& target, Symbolizer& symbols)
        : target_(target), symbols_(symbols), cache_(target) {
        accessors_.find_proc_info = &find_proc_info_cb;
        accessors_.put_unwind_info = &put_unwind_info_cb;
        accessors_.get_dyn_info_list_addr = &get_dyn_info_list_addr_cb;
        accessors_.access_mem = &access_mem_cb;
        accessors_.access_reg = &access_reg_cb;
        accessors_.access_fpreg = &access_fpreg_cb;
        accessors_.resume = &resume_cb;
        accessors_.get_proc_name = &get_proc_name_cb;
        space_ = unw_create_addr_space(&accessors_, 0);
        if (space_) unw_set_caching_policy(space_, UNW_CACHE_GLOBAL);
    }
    ~LibunwindUnwinder() override {
        if (space_) unw_destroy_addr_space(space_);
    }

    NativeStack unwind(const Thread& thread, size_t max_depth) override;

private:
    const UnwindTable* table_at(uint64_t address);
    const UnwindTable* load_table(uint64_t ip);
    bool read_word(uint64_t addr, uint64_t* out);
    bool is_sigreturn_trampoline(uint64_t pc);
    bool step_with_debug_frame(unw_cursor_t& cursor, WalkContext& context, const NativeFrame& frame,
                               bool innermost, NativeStack& stack);
    void walk(unw_cursor_t& cursor, WalkContext& context, const Thread& thread, size_t max_depth,
              NativeStack& stack);
    void add_tail_call_frames(NativeStack& stack);
    bool calls_directly(uint64_t return_pc, uint64_t callee_pc);

    static int find_proc_info_cb(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi,
                                 int need_unwind_info, void* arg);
    static void put_unwind_info_cb(unw_addr_space_t, unw_proc_info_t*, void*) {}
    static int get_dyn_info_list_addr_cb(unw_addr_space_t, unw_word_t*, void*) {
        return -UNW_ENOINFO;
    }
    static int access_mem_cb(unw_addr_space_t, unw_word_t addr, unw_word_t* value, int write,
                             void* arg) {
        if (write) return -UNW_EINVAL;
        auto* context = static_cast<WalkContext*>(arg);
        return context->unwinder->read_word(addr, value) ? 0 : -UNW_EINVAL;
    }
    static int access_reg_cb(unw_addr_space_t, unw_regnum_t reg, unw_word_t* value, int write,
                             void* arg) {
        if (write) return -UNW_EREADONLYREG;
        auto* context = static_cast<WalkContext*>(arg);
        return register_value(*context->regs, reg, value) ? 0 : -UNW_EBADREG;
    }
    static int access_fpreg_cb(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) {
        return -UNW_EBADREG;
    }
    static int resume_cb(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
    static int get_proc_name_cb(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) {
        return -UNW_ENOINFO;  // the Symbolizer names functions
    }

    Target& target_;
    Symbolizer& symbols_;
    unw_accessors_t accessors_{};
    unw_addr_space_t space_ = nullptr;
    PageCache cache_;
    std::map<uint64_t, std::unique_ptr<UnwindTable>> tables_;  // by low address, never overlapping
    const UnwindTable* last_table_ = nullptr;
    std::map<std::pair<uint64_t, uint64_t>, std::vector<uint64_t>> tail_calls_;  // (caller pc, callee pc)
};

const UnwindTable* LibunwindUnwinder::table_at(uint64_t address) {
    if (last_table_ && address - last_table_->low < last_table_->high - last_table_->low)
        return last_table_;
    auto it = tables_.upper_bound(address);
    if (it == tables_.begin()) return nullptr;
    --it;
    const UnwindTable* table = it->second.get();
    if (address - table->low >= table->high - table->low) return nullptr;
    last_table_ = table;
    return table;
}

// Builds the table of the module holding ip: its file when it matches, else its image in memory.
const UnwindTable* LibunwindUnwinder::load_table(uint64_t ip) {
    std::unique_ptr<UnwindTable> table;
    uint64_t low = 0, high = 0;
    if (const Module* module = symbols_.module_at(ip)) {
        low = module->start;
        high = module->end;
        if (!module->local_path.empty() && module->file_matches)
            table = load_unwind_table_from_file(module->local_path, module->bias, low, high);
        if (!table) table = load_unwind_table_from_memory(target_, low, module->bias, low, high);
    } else {
        // Not a file-backed module (the vDSO, JIT code): try an ELF image at the mapping's start.
        for (const auto& mapping : target_.mappings()) {
            if (ip < mapping.start || ip >= mapping.end) continue;
            low = mapping.start;
            high = mapping.end;
            table = load_unwind_table_from_memory(target_, low, std::nullopt, low, high);
            break;
        }
    }
    if (high <= low) return nullptr;
    if (!table) {
        table = std::make_unique<UnwindTable>();  // remember the failure for this range
        table->low = low;
        table->high = high;
        table->problem = "no ELF image";
    }
    // A module range may overlap a previously remembered failure; keep the map disjoint.
    auto it = tables_.lower_bound(low);
    while (it != tables_.end() && it->first < high) it = tables_.erase(it);
    if (it != tables_.begin()) {
        auto before = std::prev(it);
        if (before->second->high > low) tables_.erase(before);
    }
    last_table_ = nullptr;
    const UnwindTable* result = table.get();
    tables_.emplace(low, std::move(table));
    return result;
}

bool LibunwindUnwinder::read_word(uint64_t addr, uint64_t* out) {
    if (const UnwindTable* table = table_at(addr); table && table->image && table->read_word(addr, out))
        return true;
    return cache_.read_word(addr, out);
}

// glibc's __restore_rt (and the kernel's vDSO trampoline): mov $15,%rax; syscall. libunwind 1.6
// only knows a frame is a signal frame after stepping out of it, so look at the code ourselves.
bool LibunwindUnwinder::is_sigreturn_trampoline(uint64_t pc) {
    uint64_t w0 = 0, w1 = 0;
    return read_word(pc, &w0) && read_word(pc + 8, &w1) && w0 == 0x0f0000000fc0c748 &&
           (w1 & 0xff) == 0x05;
}

int LibunwindUnwinder::find_proc_info_cb(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi,
                                         int need_unwind_info, void* arg) {
    auto* context = static_cast<WalkContext*>(arg);
    LibunwindUnwinder& self = *context->unwinder;
    const UnwindTable* table = self.table_at(ip);
    if (!table) table = self.load_table(ip);
    if (!table || !table->has_table || ip < table->text_low || ip >= table->text_high) {
        context->missing_cfi = true;
        return -UNW_ENOINFO;
    }
    unw_dyn_info_t info{};
    info.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    info.start_ip = table->text_low;
    info.end_ip = table->text_high;
    info.u.rti.segbase = table->segbase;
    info.u.rti.table_data = table->table_data;
    info.u.rti.table_len = table->table_bytes / sizeof(unw_word_t);
    int rc = _Ux86_64_dwarf_search_unwind_table(as, ip, &info, pi, need_unwind_info, arg);
    if (rc < 0) context->missing_cfi = true;
    return rc;
}

NativeStack LibunwindUnwinder::unwind(const Thread& thread, size_t max_depth) {
    NativeStack stack;
    stack.tid = thread.tid;
    if (!thread.has_registers) {
        stack.error = "no registers recorded for this thread";
        return stack;
    }
    if (!space_) {
        stack.error = "libunwind could not create an address space";
        return stack;
    }
    cache_.clear();
    WalkContext context{this, &thread.regs};
    unw_cursor_t cursor;
    if (int rc = unw_init_remote(&cursor, space_, &context); rc < 0) {
        stack.error = std::string("cannot start the stack walk: ") + unw_strerror(rc);
        return stack;
    }
    walk(cursor, context, thread, max_depth, stack);
    add_tail_call_frames(stack);
    return stack;
}

// A `call rel32` right before the return address that lands on the callee's first byte: no
// tail call in between, and no DWARF to read (most frames of most stacks).
bool LibunwindUnwinder::calls_directly(uint64_t return_pc, uint64_t callee_pc) {
    uint64_t word = 0;
    if (!read_word(return_pc - 5, &word) || (word & 0xff) != 0xe8) return false;
    auto displacement = static_cast<int32_t>(static_cast<uint32_t>(word >> 8));
    auto callee = symbols_.symbol_at(callee_pc);
    return callee && return_pc + displacement == callee_pc - callee->second;
}

// Frames unwinding cannot see (tail calls), between each frame and its caller, as gdb shows them.
void LibunwindUnwinder::add_tail_call_frames(NativeStack& stack) {
    std::vector<NativeFrame>& frames = stack.frames;
    std::vector<uint64_t> pcs;
    for (const NativeFrame& frame : frames) pcs.push_back(frame.pc);
    symbols_.load_debug_files(pcs);  // all at once, in parallel, before call sites are read
    for (size_t i = 0; i + 1 < frames.size(); ++i) {
        const NativeFrame& callee = frames[i];
        const NativeFrame& caller = frames[i + 1];
        if (callee.is_signal_frame || caller.is_signal_frame || caller.found_by_frame_pointer || callee.tail_call)
            continue;
        bool exact = i == 0 || frames[i - 1].is_signal_frame;  // pc itself, not a return address
        uint64_t callee_pc = exact ? callee.pc : callee.pc - 1;
        auto key = std::pair{caller.pc, callee_pc};
        auto known = tail_calls_.find(key);
        if (known == tail_calls_.end()) {
            std::vector<uint64_t> pcs;
            if (!calls_directly(caller.pc, callee_pc)) pcs = symbols_.tail_call_frames(caller.pc, callee_pc);
            known = tail_calls_.emplace(key, std::move(pcs)).first;
        }
        std::vector<NativeFrame> inserted;
        for (uint64_t pc : known->second) {
            NativeFrame frame = frames[i + 1];
            frame.pc = frame.regs.rip = pc;
            frame.tail_call = true;
            inserted.push_back(frame);
        }
        frames.insert(frames.begin() + i + 1, inserted.begin(), inserted.end());
        i += inserted.size();
    }
}

void fill_callee_saved(unw_cursor_t& cursor, Registers& regs) {
    unw_word_t v = 0;
    if (unw_get_reg(&cursor, UNW_X86_64_RBP, &v) == 0) regs.rbp = v;
    if (unw_get_reg(&cursor, UNW_X86_64_RBX, &v) == 0) regs.rbx = v;
    if (unw_get_reg(&cursor, UNW_X86_64_R12, &v) == 0) regs.r12 = v;
    if (unw_get_reg(&cursor, UNW_X86_64_R13, &v) == 0) regs.r13 = v;
    if (unw_get_reg(&cursor, UNW_X86_64_R14, &v) == 0) regs.r14 = v;
    if (unw_get_reg(&cursor, UNW_X86_64_R15, &v) == 0) regs.r15 = v;
}

void LibunwindUnwinder::walk(unw_cursor_t& cursor, WalkContext& context, const Thread& thread,
                             size_t max_depth, NativeStack& stack) {
    stack.frames.reserve(32);
    bool found_by_frame_pointer = false;
    for (;;) {
        NativeFrame frame;
        unw_word_t pc = 0, sp = 0;
        unw_get_reg(&cursor, UNW_REG_IP, &pc);
        unw_get_reg(&cursor, UNW_REG_SP, &sp);
        if (pc == 0) break;  // an outermost frame that libunwind did not recognise as such
        frame.pc = pc;
        frame.sp = sp;
        frame.is_signal_frame = is_sigreturn_trampoline(pc);
        frame.found_by_frame_pointer = found_by_frame_pointer;
        if (stack.frames.empty()) {
            frame.regs = thread.regs;
        } else {
            frame.regs.rip = pc;
            frame.regs.rsp = sp;
            fill_callee_saved(cursor, frame.regs);
            NativeFrame& callee = stack.frames.back();
            if (callee.pc == pc && callee.sp == sp) {
                stack.truncated = true;
                stack.error = "stack walk stopped: the same frame repeats (corrupt stack?)";
                return;
            }
            // Stacks grow down; only a signal frame may switch to another (alternate) stack.
            if (sp < callee.sp && !callee.is_signal_frame) {
                stack.truncated = true;
                stack.error = "stack walk stopped: the stack pointer went backwards (corrupt stack?)";
                return;
            }
            callee.cfa = sp;
        }
        stack.frames.push_back(frame);
        if (stack.frames.size() >= max_depth) {
            stack.truncated = stack.depth_limited = true;
            stack.error = "stack walk stopped at the depth limit of " + std::to_string(max_depth) + " frames";
            return;
        }
        context.missing_cfi = false;
        int rc = unw_step(&cursor);
        if (context.missing_cfi && !frame.is_signal_frame) {
            // No .eh_frame entry: .debug_frame may describe the code; else keep libunwind's
            // frame-pointer guess.
            if (step_with_debug_frame(cursor, context, frame, stack.frames.size() == 1, stack)) {
                found_by_frame_pointer = false;
                if (context.restart.rip == 0 || !stack.error.empty()) return;
                continue;
            }
        }
        if (rc == 0) return;
        if (rc < 0) {
            stack.error = std::string("stack walk stopped: ") + unw_strerror(rc);
            return;
        }
        found_by_frame_pointer = context.missing_cfi && !frame.is_signal_frame;
    }
}

// Computes the caller from .debug_frame and restarts libunwind's cursor there. False when
// .debug_frame has nothing for the frame (the caller then keeps libunwind's own step).
bool LibunwindUnwinder::step_with_debug_frame(unw_cursor_t& cursor, WalkContext& context, const NativeFrame& frame,
                                              bool innermost, NativeStack& stack) {
    uint64_t lookup_pc = innermost ? frame.pc : frame.pc - 1;  // inside the call instruction
    auto caller = symbols_.debug_frame_caller(lookup_pc, frame.regs,
                                              [this](uint64_t a, uint64_t* v) { return read_word(a, v); });
    if (!caller) return false;
    context.restart = *caller;
    context.regs = &context.restart;
    if (caller->rip == 0) return true;  // the CFI's outermost frame
    if (int rc = unw_init_remote(&cursor, space_, &context); rc < 0)
        stack.error = std::string("stack walk stopped: ") + unw_strerror(rc);
    return true;
}

}  // namespace

std::unique_ptr<Unwinder> make_unwinder(Target& target, Symbolizer& symbols) {
    return std::make_unique<LibunwindUnwinder>(target, symbols);
}

}  // namespace snag
