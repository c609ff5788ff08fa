#include "python/threads.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace snag::python {
namespace {

constexpr size_t kMaxInterpreters = 256;
constexpr uint64_t kGlibcPthreadTid = 0x2d0;  // offsetof(struct pthread, tid), glibc 2.36 x86_64

// threading._active: ident → Thread; the Thread's _name (2.7: _Thread__name) is what users
// named the thread.
std::unordered_map<uint64_t, std::string> thread_names(Memory& mem, Objects& obj, const Layout& l,
                                                       uint64_t interp) {
    std::unordered_map<uint64_t, std::string> names;
    if (l.is_modules < 0) return names;
    uint64_t modules = mem.ptr(interp + l.is_modules);
    auto threading = obj.dict_get(modules, "threading");
    if (!threading) return names;
    uint64_t md_dict = mem.ptr(*threading + l.module_dict);
    for (const char* registry : {"_active", "_limbo"}) {
        auto active = obj.dict_get(md_dict, registry);
        if (!active) continue;
        for (auto [key, thread] : obj.dict_items(*active, 100000)) {
            auto ident = obj.small_int(key);
            if (!ident) continue;
            for (auto& [attr, value] : obj.instance_attributes(thread, 64))
                if (attr == "_name" || attr == "_Thread__name")
                    names[static_cast<uint64_t>(*ident)] = obj.str(value, 200).value_or("");
        }
    }
    return names;
}

uint64_t first_frame(Memory& mem, const Layout& l, uint64_t ts) {
    if (l.ts_frame >= 0) return mem.ptr(ts + l.ts_frame);
    if (l.ts_cframe >= 0) {
        uint64_t cframe = mem.ptr(ts + l.ts_cframe);
        return cframe ? mem.ptr(cframe + l.cframe_current_frame) : 0;
    }
    return mem.ptr(ts + l.ts_current_frame);
}

// Free-threaded builds run without the GIL unless it was enabled (PYTHON_GIL=1, or an
// extension module that does not declare Py_mod_gil): _gil_runtime_state.enabled is 0 then.
bool gil_disabled(Memory& mem, const Layout& l, uint64_t interp) {
    if (!l.free_threaded) return false;
    if (l.gil_enabled < 0 || l.is_ceval_gil < 0) return true;
    uint64_t gil = mem.ptr(interp + l.is_ceval_gil);
    return !gil || mem.i32(gil + l.gil_enabled).value_or(0) == 0;
}

// The GIL holder's thread state, 0 when unlocked; nullopt when it cannot be known.
std::optional<uint64_t> gil_holder(Memory& mem, const PythonRuntime& rt, uint64_t interp) {
    const Layout& l = rt.layout;
    if (gil_disabled(mem, l, interp)) return std::nullopt;
    if (l.is_ceval_gil >= 0) {
        uint64_t gil = mem.ptr(interp + l.is_ceval_gil);
        auto locked = mem.i32(gil + l.gil_locked);
        if (!gil || !locked) return std::nullopt;
        return *locked ? mem.ptr(gil + l.gil_last_holder) : 0;
    }
    if (rt.gil_locked_at && rt.gil_last_holder_at) {
        auto locked = mem.i32(rt.gil_locked_at);
        if (!locked) return std::nullopt;
        // 3.6 creates the GIL with the second thread; until then (-1) the current thread holds it.
        if (*locked < 0 && rt.tstate_current_at) return mem.ptr(rt.tstate_current_at);
        return *locked ? mem.ptr(rt.gil_last_holder_at) : 0;
    }
    if (rt.tstate_current_at) return mem.ptr(rt.tstate_current_at);  // 3.6: NULL while released
    return std::nullopt;
}

bool gc_collecting(Memory& mem, const PythonRuntime& rt, uint64_t interp) {
    const Layout& l = rt.layout;
    if (l.is_gc_collecting >= 0) return mem.i32(interp + l.is_gc_collecting).value_or(0) != 0;
    if (rt.gc_collecting_at) return mem.i32(rt.gc_collecting_at).value_or(0) != 0;
    return false;
}

// The exception a thread handles (topmost non-None exc_info entry) or raises.
std::optional<ThreadException> thread_exception(Memory& mem, Objects& obj, const Layout& l, uint64_t ts,
                                                const ReprLimits& limits) {
    auto present = [&](uint64_t v) { return v && obj.type_name(v) != "NoneType"; };
    uint64_t raising = l.ts_current_exception >= 0 ? mem.ptr(ts + l.ts_current_exception)
                       : l.ts_curexc_value >= 0   ? mem.ptr(ts + l.ts_curexc_value) : 0;
    if (present(raising)) return ThreadException{"raising", exception_chain(mem, obj, l, raising, limits)};
    uint64_t handled = 0;
    if (l.ts_exc_value >= 0) {
        handled = mem.ptr(ts + l.ts_exc_value);
    } else if (l.ts_exc_info >= 0) {
        uint64_t item = mem.ptr(ts + l.ts_exc_info);
        for (int depth = 0; item && depth < 64 && !present(handled); ++depth) {
            handled = mem.ptr(item + l.err_item_value);
            item = mem.ptr(item + l.err_item_previous);
        }
    }
    if (present(handled)) return ThreadException{"handling", exception_chain(mem, obj, l, handled, limits)};
    return std::nullopt;
}

// Where this thread state's innermost eval loop keeps its C-stack state (see PyThread::c_stack).
uint64_t c_stack_anchor(Memory& mem, const Layout& l, uint64_t ts, const FrameChain& chain) {
    if (chain.frames.empty()) return 0;
    if (chain.c_stack_entry) return chain.c_stack_entry;
    return l.minor == 11 && l.ts_cframe >= 0 ? mem.ptr(ts + l.ts_cframe) : 0;
}

struct StackOwner {
    const Thread* thread = nullptr;
    uint64_t pthread = 0;  // its pthread_self()
};

// Stopped: the thread whose stack pointer is the nearest below addr in its mapping. Without
// registers (live --no-stop) the mapping tells: "[stack]" is the main thread's, another one
// holds the struct pthread of the thread it belongs to (glibc puts it at the top).
StackOwner owner_of_stack_address(Target& target, uint64_t addr, const std::vector<uint64_t>& pthreads) {
    StackOwner owner;
    const Mapping* mapping = nullptr;
    for (const auto& m : target.mappings())
        if (addr && addr >= m.start && addr < m.end) mapping = &m;
    if (!mapping) return owner;
    bool registers = false;
    for (const auto& t : target.threads()) {
        registers = registers || t.has_registers;
        if (t.has_registers && t.regs.rsp >= mapping->start && t.regs.rsp <= addr &&
            (!owner.thread || t.regs.rsp > owner.thread->regs.rsp))
            owner = {&t, t.regs.fs_base};
    }
    if (registers) return owner;
    bool main_stack = mapping->path == "[stack]";
    for (uint64_t p : pthreads) {
        if (!main_stack && (p < mapping->start || p >= mapping->end)) continue;
        int tid = tid_for_pthread(target, p);
        if (tid && (!main_stack || tid == target.process().pid)) return {target.thread(tid), p};
    }
    return owner;
}

}  // namespace

int tid_for_pthread(Target& target, uint64_t thread_id) {
    if (!thread_id) return 0;
    for (const auto& t : target.threads())
        if (t.has_registers && t.regs.fs_base == thread_id) return t.tid;
    // Without registers (unusual cores, racing live reads) ask glibc's struct pthread.
    if (auto tid = target.read_value<int32_t>(thread_id + kGlibcPthreadTid); tid && *tid > 0)
        if (const Thread* os = target.thread_seen_inside(*tid)) return os->tid;
    return 0;
}

PythonState read_python_state(Target& target, const PythonRuntime& rt, const ReadOptions& options) {
    PythonState state;
    state.version = rt.version;
    state.module = rt.module_path;
    state.found_by = rt.found_by;
    state.layout_source = rt.layout.source;
    const Layout& l = rt.layout;
    Memory mem(target);
    Objects obj(mem, l);
    FrameWalker walker(mem, obj, l);
    std::unordered_set<uint64_t> seen_interps, seen_threads;
    std::unordered_map<uint64_t, std::unordered_map<uint64_t, std::string>> names_of;  // per interpreter
    std::vector<uint64_t> interp_of;  // each thread state's interpreter
    state.gil_known = true;
    state.free_threaded = l.free_threaded;
    uint64_t interp = mem.ptr(rt.interp_head_at);
    for (size_t n = 0; interp && n < kMaxInterpreters; interp = mem.ptr(interp + l.is_next), ++n) {
        if (!seen_interps.insert(interp).second) {
            state.warnings.push_back("interpreter list loops");
            break;
        }
        int64_t interp_id = l.is_id >= 0 ? mem.i64(interp + l.is_id).value_or(0) : 0;
        auto holder = gil_holder(mem, rt, interp);
        if (!holder) state.gil_known = false;
        state.gil_disabled = state.gil_disabled || gil_disabled(mem, l, interp);
        bool collecting = gc_collecting(mem, rt, interp);
        state.gc_collecting = state.gc_collecting || collecting;
        names_of[interp] = thread_names(mem, obj, l, interp);
        uint64_t ts = mem.ptr(interp + l.is_threads_head);
        for (; ts; ts = mem.ptr(ts + l.ts_next)) {
            if (!seen_threads.insert(ts).second) {
                state.warnings.push_back("thread state list loops");
                break;
            }
            if (state.threads.size() >= options.max_threads) {
                state.warnings.push_back("stopped after " + std::to_string(options.max_threads) + " threads");
                break;
            }
            if (mem.ptr(ts + l.ts_interp) != interp) {
                state.warnings.push_back("thread state does not point back to its interpreter; list abandoned");
                break;
            }
            PyThread t;
            t.thread_state = ts;
            t.interpreter_id = interp_id;
            t.thread_id = mem.u64(ts + l.ts_thread_id).value_or(0);
            // native_thread_id is the TID inside the process's PID namespace (a container's own).
            if (l.ts_native_thread_id >= 0)
                if (const Thread* os = target.thread_seen_inside(static_cast<int>(mem.i64(ts + l.ts_native_thread_id).value_or(0))))
                    t.tid = os->tid;
            if (!t.tid) t.tid = tid_for_pthread(target, t.thread_id);
            t.holds_gil = holder && *holder == ts;
            if (l.ts_state >= 0) t.attach_state = mem.i32(ts + l.ts_state).value_or(-1);
            t.gc_running = collecting && t.holds_gil;
            uint64_t chunk = l.ts_datastack_chunk >= 0 ? mem.ptr(ts + l.ts_datastack_chunk) : 0;
            t.stack = walker.walk(first_frame(mem, l, ts), options.locals, options.limits, options.max_frames,
                                  chunk);
            t.exception = thread_exception(mem, obj, l, ts, options.limits);
            t.c_stack = c_stack_anchor(mem, l, ts, t.stack);
            state.threads.push_back(std::move(t));
            interp_of.push_back(interp);
        }
    }
    std::vector<uint64_t> pthreads;
    for (const auto& t : state.threads) pthreads.push_back(t.thread_id);
    for (size_t i = 0; i < state.threads.size(); ++i) {
        PyThread& t = state.threads[i];
        // The thread that made a thread state need not run it: 3.12's run_string borrows the
        // subinterpreter's first one, made by the thread that created the interpreter.
        if (StackOwner runs = owner_of_stack_address(target, t.c_stack, pthreads); runs.thread && runs.thread->tid != t.tid) {
            t.tid = runs.thread->tid;
            t.thread_id = runs.pthread;
        }
        const auto& names = names_of[interp_of[i]];
        if (auto it = names.find(t.thread_id); it != names.end()) t.name = it->second;
        std::string unverified;
        if (!t.stack.frames.empty() && !t.holds_gil)
            t.waiting_on = find_wait_target(mem, obj, l, t.stack.frames.front(), t.thread_id, &unverified);
        t.with_locks = find_with_locks(mem, obj, l, t.stack);
        std::string note = "cannot tell whether a thread waits on the " + unverified;
        if (!unverified.empty() && std::find(state.warnings.begin(), state.warnings.end(), note) == state.warnings.end())
            state.warnings.push_back(note);
    }
    return state;
}

}  // namespace snag::python
