#include "python/frames.hpp"

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace snag::python {
namespace {

constexpr uint8_t kFastHidden = 0x10, kFastCell = 0x40, kFastFree = 0x80;
constexpr int kOwnedByCStack312 = 3;
constexpr size_t kMaxStackSlots = 1024;

}  // namespace

const CodeInfo& FrameWalker::code_info(uint64_t code) {
    auto it = codes_.find(code);
    if (it != codes_.end()) return it->second;
    CodeInfo info;
    if (obj_.type_name(code) == "code") {
        info.name = obj_.str(mem_.ptr(code + l_.co_name), 400).value_or("");
        info.file = obj_.str(mem_.ptr(code + l_.co_filename), 4096).value_or("");
        if (l_.co_qualname >= 0) info.qualname = obj_.str(mem_.ptr(code + l_.co_qualname), 400).value_or("");
        info.firstlineno = mem_.i32(code + l_.co_firstlineno).value_or(0);
        uint64_t table = mem_.ptr(code + l_.co_linetable);
        info.linetable = obj_.bytes(table, 1 << 20).value_or("");
        info.stacksize = mem_.i32(code + l_.co_stacksize).value_or(0);
        if (l_.interpreter_frames) {
            info.code_units = mem_.i64(code + l_.var_size).value_or(0);
            if (l_.co_firsttraceable >= 0) info.firsttraceable = mem_.i32(code + l_.co_firsttraceable).value_or(0);
            uint64_t names = mem_.ptr(code + l_.co_localsplusnames);
            for (uint64_t n : obj_.sequence_items(names, 4096)) info.local_names.push_back(obj_.str(n, 200).value_or("?"));
            std::string kinds = obj_.bytes(mem_.ptr(code + l_.co_localspluskinds), 4096).value_or("");
            info.local_kinds.assign(kinds.begin(), kinds.end());
            info.local_kinds.resize(info.local_names.size(), 0);
            info.nlocals = static_cast<int>(info.local_names.size());
        } else {
            int nlocals = mem_.i32(code + l_.co_nlocals).value_or(0);
            auto add = [&](Off field, size_t cap) {
                auto items = obj_.sequence_items(mem_.ptr(code + field), cap);
                for (uint64_t n : items) info.local_names.push_back(obj_.str(n, 200).value_or("?"));
            };
            add(l_.co_varnames, nlocals > 0 ? std::min(nlocals, 4096) : 0);
            add(l_.co_cellvars, 4096);
            add(l_.co_freevars, 4096);
            info.nlocals = nlocals;
        }
        info.valid = !info.name.empty() || !info.file.empty();
    }
    return codes_.emplace(code, std::move(info)).first->second;
}

void FrameWalker::fill_locals(PyFrame& out, const CodeInfo& code, uint64_t slots,
                              const ReprLimits& limits) {
    size_t n = std::min<size_t>(code.local_names.size(), 4096);
    std::vector<uint64_t> values(n);
    if (n && !mem_.read(slots, values.data(), 8 * n)) return;
    for (size_t i = 0; i < n; ++i) {
        uint8_t kind = i < code.local_kinds.size() ? code.local_kinds[i] : 0;
        if (kind & kFastHidden) continue;
        uint64_t value = deref(values[i]);
        if (!value) continue;  // unbound
        bool is_cell_slot = l_.interpreter_frames ? (kind & (kFastCell | kFastFree))
                                                  : i >= static_cast<size_t>(code.nlocals);
        if (is_cell_slot && obj_.type_name(value) == "cell") {
            value = mem_.ptr(value + l_.cell_ref);
            if (!value) continue;
        }
        if (limits.libpython) {
            ReprLimits whole = limits;
            whole.total_chars = 1 << 20;
            out.locals_line += (out.locals.empty() ? "" : ", ") + code.local_names[i] + "=" +
                               obj_.repr(value, whole, out.locals.empty());
        }
        out.locals.emplace_back(code.local_names[i], obj_.repr(value, limits));
    }
}

namespace {

// The opcode byte of the code unit at addr, or -1.
int opcode_at(Memory& mem, uint64_t addr) {
    auto byte = mem.value<uint8_t>(addr);
    return byte ? *byte : -1;
}

}  // namespace

bool FrameWalker::read_legacy(uint64_t frame, PyFrame& out, bool with_locals, const ReprLimits& limits) {
    uint64_t code = mem_.ptr(frame + l_.fr_code);
    const CodeInfo& info = code_info(code);
    if (!info.valid) return false;
    int lasti = mem_.i32(frame + l_.fr_lasti).value_or(-1);
    int64_t offset = lasti < 0 ? -1 : (l_.lasti_in_units ? int64_t{lasti} * 2 : lasti);
    out.function = info.name;
    out.file = info.file;
    out.code = code;
    out.line = line_for_offset(l_.line_format, info.linetable, info.firstlineno, offset);
    out.entry = true;  // ≤3.10: every frame object runs in its own eval-loop call
    uint64_t bytecode = mem_.ptr(code + l_.co_code);
    if (bytecode && offset >= 0) out.opcode = opcode_at(mem_, bytecode + l_.bytes_data + offset);
    if (with_locals) fill_locals(out, info, frame + l_.fr_localsplus, limits);
    uint64_t stack = mem_.ptr(frame + l_.fr_valuestack);
    size_t depth = std::min<size_t>(std::max(info.stacksize, 0), kMaxStackSlots);
    out.stack_values.resize(depth);
    if (depth && !mem_.read(stack, out.stack_values.data(), 8 * depth)) out.stack_values.clear();
    return true;
}

bool FrameWalker::read_interpreter_frame(uint64_t frame, PyFrame& out, bool with_locals,
                                         const ReprLimits& limits, std::string& error) {
    int owner = mem_.value<uint8_t>(frame + l_.fr_owner).value_or(0);
    if (l_.minor >= 12 && owner >= kOwnedByCStack312) return false;  // shim / C-stack entry
    uint64_t code = deref(mem_.ptr(frame + l_.fr_code));
    const CodeInfo& info = code_info(code);
    if (!info.valid) {
        error = "frame at " + hex_addr(frame) + " has no code object";
        return false;
    }
    uint64_t instr = mem_.ptr(frame + l_.fr_instr);
    if (l_.minor == 11) out.opcode = opcode_at(mem_, instr);  // prev_instr: the one running
    uint64_t base = bytecode_of(frame, code);
    int64_t offset = static_cast<int64_t>(instr - base);
    bool generator_owned = owner == 1;
    if (!generator_owned && offset < 2 * int64_t{info.firsttraceable} && l_.minor <= 13)
        return false;  // incomplete frame: still running its prologue, CPython hides it too
    out.function = info.qualname.empty() ? info.name : info.qualname;
    out.file = info.file;
    out.code = code;
    // A torn or garbage pointer (or a damaged code size) gives the first line.
    if (info.code_units < 0 || info.code_units > (int64_t{1} << 40) || offset >= 2 * info.code_units) offset = -1;
    SourcePosition at = position_for_offset(l_.line_format, info.linetable, info.firstlineno, offset);
    out.line = at.line;
    out.end_line = at.end_line;
    out.column = at.column;
    out.end_column = at.end_column;
    if (l_.fr_is_entry >= 0) out.entry = mem_.value<uint8_t>(frame + l_.fr_is_entry).value_or(0) != 0;
    uint64_t slots = frame + l_.fr_localsplus;
    if (with_locals) fill_locals(out, info, slots, limits);
    size_t depth = std::min<size_t>(std::max(info.stacksize, 0), kMaxStackSlots);
    out.stack_values.resize(depth);
    uint64_t stack = slots + 8 * info.local_names.size();
    if (depth && !mem_.read(stack, out.stack_values.data(), 8 * depth))
        out.stack_values.clear();
    for (auto& v : out.stack_values) v = deref(v);
    out.live_slots = live_slots(frame, stack, info.local_names.size(), out.stack_values.size());
    return true;
}

// How many value-stack slots hold live values, -1 when unknown: 3.14+ keep a pointer past the top,
// 3.11–3.13 an index from localsplus saved when the frame calls Python code (-1 while it runs or
// calls C code). Slots above the top are stale and may point at objects freed long ago.
int FrameWalker::live_slots(uint64_t frame, uint64_t stack, size_t nlocals, size_t depth) {
    int64_t top = -1;
    if (l_.fr_stackpointer >= 0) {
        uint64_t end = mem_.ptr(frame + l_.fr_stackpointer);
        if (end >= stack) top = static_cast<int64_t>(std::min<uint64_t>((end - stack) / 8, depth + 1));
    } else if (l_.fr_stacktop >= 0) {
        top = mem_.i32(frame + l_.fr_stacktop).value_or(-1) - static_cast<int64_t>(nlocals);
    }
    return top >= 0 && static_cast<size_t>(top) <= depth ? static_cast<int>(top) : -1;
}

// 3.14t: each thread may run its own copy of the bytecode, co_tlbc->entries[frame->tlbc_index]
// (_PyCodeArray {Py_ssize_t size; char *entries[]}); copy 0 is co_code_adaptive itself.
uint64_t FrameWalker::bytecode_of(uint64_t frame, uint64_t code) {
    uint64_t adaptive = code + l_.co_code_adaptive;
    if (l_.fr_tlbc_index < 0 || l_.co_tlbc < 0) return adaptive;
    int32_t index = mem_.i32(frame + l_.fr_tlbc_index).value_or(0);
    uint64_t copies = mem_.ptr(code + l_.co_tlbc);
    if (index <= 0 || !copies || index >= mem_.i64(copies).value_or(0)) return adaptive;
    uint64_t copy = mem_.ptr(copies + 8 + 8 * static_cast<uint64_t>(index));
    return copy ? copy : adaptive;
}

// _PyStackChunk (Include/internal/pycore_pystate.h): previous, size in bytes, top (words), data.
constexpr uint64_t kChunkSize = 8, kChunkTop = 16, kChunkData = 24;
constexpr size_t kMaxChunks = 1024, kMaxFramesPerChunk = 1 << 16;

// A gcore of a chrooted 3.14 process was seen zero-filling the top pages of every thread's C
// stack, where the eval loop keeps its entry frames: the chain through them is lost. The live
// frames of a data-stack chunk are contiguous from its start (data[1] in the root chunk), each
// co_framesize words long, so the frame pushed before `frame` is the one that ends where
// `frame` starts (at the previous chunk's saved top when `frame` opens its chunk).
std::optional<uint64_t> FrameWalker::frame_below(uint64_t frame, uint64_t chunk) {
    if (!chunk || l_.fr_localsplus < 0) return std::nullopt;
    for (size_t n = 0; chunk && n < kMaxChunks; chunk = mem_.ptr(chunk), ++n) {
        uint64_t size = mem_.u64(chunk + kChunkSize).value_or(0);
        if (frame >= chunk + kChunkData && frame < chunk + size) break;
    }
    if (!chunk) return std::nullopt;
    uint64_t previous = mem_.ptr(chunk);
    uint64_t start = chunk + kChunkData + (previous ? 0 : 8), end = frame;
    if (frame == start && !previous) return 0;  // the thread's first frame
    if (frame == start) {
        start = previous + kChunkData + (mem_.ptr(previous) ? 0 : 8);
        end = previous + kChunkData + 8 * mem_.u64(previous + kChunkTop).value_or(0);
    }
    for (uint64_t at = start, n = 0; at < end && n < kMaxFramesPerChunk; ++n) {
        const CodeInfo& info = code_info(deref(mem_.ptr(at + l_.fr_code)));
        if (!info.valid) return std::nullopt;
        uint64_t next = at + 8 * (l_.fr_localsplus / 8 + info.local_names.size() + std::max(info.stacksize, 0));
        if (next == end) return at;
        at = next;
    }
    return std::nullopt;
}

FrameNamespaces frame_namespaces(Memory& mem, Objects& obj, const Layout& l, uint64_t frame) {
    Off globals = !l.interpreter_frames ? l.fr_code + 16 : l.minor == 11 ? 8 : 24;
    Off builtins = !l.interpreter_frames ? l.fr_code + 8 : globals + 8;
    auto dict_at = [&](Off off) {
        uint64_t d = mem.ptr(frame + static_cast<uint64_t>(off));
        return d && obj.type_name(d) == "dict" ? d : 0;
    };
    return {dict_at(globals), dict_at(builtins)};
}

FrameChain FrameWalker::walk(uint64_t first, bool with_locals, const ReprLimits& limits, size_t max_frames,
                             uint64_t datastack_chunk) {
    FrameChain chain;
    std::unordered_set<uint64_t> seen;
    size_t steps = 0;
    for (uint64_t f = first, next = 0; f; f = next) {
        next = mem_.ptr(f + l_.fr_back);
        if (!seen.insert(f).second) {
            chain.error = "frame chain loops back to a frame already seen";
            break;
        }
        if (++steps > max_frames) {
            chain.error = "stopped after " + std::to_string(max_frames) + " frames";
            break;
        }
        PyFrame frame;
        frame.address = f;
        std::string error;
        bool shown = l_.interpreter_frames ? read_interpreter_frame(f, frame, with_locals, limits, error)
                                           : read_legacy(f, frame, with_locals, limits);
        if (!error.empty() && !chain.frames.empty()) {
            // An unreadable frame after a good one: continue below the good one on the data stack.
            if (auto below = frame_below(chain.frames.back().address, datastack_chunk)) {
                chain.frames.back().entry = true;  // what sat between them was an eval-loop entry
                next = *below;
                continue;
            }
        }
        if (!error.empty()) {
            chain.error = error;
            break;
        }
        if (!shown) {
            if (!l_.interpreter_frames) {
                chain.error = "frame at " + hex_addr(f) + " has no code object";
                break;
            }
            int owner = mem_.value<uint8_t>(f + l_.fr_owner).value_or(0);
            if (l_.minor >= 12 && owner >= kOwnedByCStack312) {
                if (!chain.frames.empty()) chain.frames.back().entry = true;
                chain.c_stack_entry = f;
            }
            continue;
        }
        chain.frames.push_back(std::move(frame));
    }
    // The outermost frame of a thread is always where its eval loop was entered.
    if (!chain.frames.empty() && l_.interpreter_frames && l_.minor >= 12) chain.frames.back().entry = true;
    return chain;
}

}  // namespace snag::python
