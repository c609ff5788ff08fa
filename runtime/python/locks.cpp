#include "python/locks.hpp"

#include <algorithm>
#include <unordered_set>

#include "python/lock_layout.hpp"

namespace snag::python {
namespace {

// 2.7's threading._RLock is Python: its private __owner and __count, mangled.
std::optional<LockInfo> read_py2_rlock(Objects& obj, uint64_t o) {
    LockInfo info;
    info.kind = "RLock";
    info.address = o;
    for (auto& [name, value] : obj.instance_attributes(o, 32)) {
        if (name == "_RLock__owner") info.owner_thread_id = static_cast<uint64_t>(obj.small_int(value).value_or(0));
        if (name == "_RLock__count") info.count = static_cast<uint64_t>(obj.small_int(value).value_or(0));
    }
    info.locked = info.owner_thread_id != 0 && info.count > 0;
    return info;
}

// 2.7: a thread blocked in _RLock.acquire waits on its inner thread.lock; report the RLock
// itself (the method's `self`, its first fast local) with its owner.
std::optional<WaitTarget> py2_rlock_wait(Memory& mem, Objects& obj, const Layout& l, const PyFrame& innermost) {
    if (!l.py2_objects || innermost.function != "acquire") return std::nullopt;
    uint64_t self = mem.ptr(innermost.address + l.fr_localsplus);
    if (!self || obj.type_name(self) != "_RLock") return std::nullopt;
    return WaitTarget{innermost.function, "_RLock", self, read_py2_rlock(obj, self)};
}

}  // namespace

std::optional<LockInfo> read_lock(Memory& mem, Objects& obj, const Layout& l, uint64_t o) {
    const std::string& type = obj.type_name(o);
    LockInfo info;
    info.address = o;
    if (type == "thread.lock" && l.lock_sem >= 0) {
        info.kind = "Lock";
        auto locked = obj.py2_lock_locked(o);
        if (!locked) return std::nullopt;
        info.locked = *locked;
        return info;
    }
    if (type == "_RLock" && l.py2_objects) return read_py2_rlock(obj, o);
    bool rlock = type == "_thread.RLock";
    if (!rlock && type != "_thread.lock") return std::nullopt;
    LockState s = read_lock_state(mem, l, o, rlock);
    info.kind = rlock ? "RLock" : "Lock";
    info.state_known = s.known;
    info.locked = s.locked;
    info.owner_thread_id = s.owner_thread_id;
    info.count = s.count;
    info.unknown_reason = s.unknown_reason;
    return info;
}

namespace {

bool named_exit(Memory& mem, uint64_t method_def) {
    auto name = method_def ? mem.cstring(mem.ptr(method_def), 16) : std::nullopt;  // PyMethodDef.ml_name
    return name && *name == "__exit__";
}

// The self of a live bound __exit__ (what `with` keeps on the stack, ≤3.13), else 0.
uint64_t bound_exit_self(Memory& mem, Objects& obj, const Layout& l, uint64_t v) {
    if (v < 4096 || obj.type_name(v) != "builtin_function_or_method") return 0;
    Off head = l.ob_type + 8;  // PyCFunctionObject: PyObject_HEAD, m_ml, m_self
    // A freed bound method (a `with` block that has ended) keeps its type but not its references.
    if (!l.free_threaded && mem.i64(v).value_or(0) <= 0) return 0;
    return named_exit(mem, mem.ptr(v + head)) ? mem.ptr(v + head + 8) : 0;
}

// __exit__ as a method descriptor (PyDescr_COMMON: type, name, qualname, then d_method): what 3.14+
// keeps below the manager of an open `with` block.
bool exit_descriptor(Memory& mem, Objects& obj, const Layout& l, uint64_t v) {
    return v >= 4096 && obj.type_name(v) == "method_descriptor" && named_exit(mem, mem.ptr(v + l.ob_type + 32));
}

// The lock a value-stack slot (with the one above it) shows a `with` block open on, or 0: a live
// bound __exit__ whose self is a locked Lock (≤3.13); __exit__ as a method descriptor (PyDescr_COMMON:
// type, name, qualname, then d_method) below the lock itself (3.14+).
uint64_t with_lock_at(Memory& mem, Objects& obj, const Layout& l, const std::vector<uint64_t>& slots, size_t i,
                      size_t live) {
    uint64_t v = slots[i];
    if (v < 4096) return 0;
    uint64_t self = bound_exit_self(mem, obj, l, v);
    if (!self && i + 1 < live && exit_descriptor(mem, obj, l, v))
        self = slots[i + 1] & ~3ull;  // _PyStackRef tag bits
    if (self < 4096 || obj.type_name(self) != "_thread.lock") return 0;
    auto lock = read_lock(mem, obj, l, self);
    return lock && lock->state_known && lock->locked ? self : 0;
}

// ≤3.11 push a `with` block's bound __exit__ before its __enter__ runs: the thread is entering
// (waiting for) that lock only while the frame runs the block's first instruction, SETUP_WITH
// (2.7–3.10) or BEFORE_WITH (3.11); at any other instruction it holds the lock. Unknown: entering.
bool entering_with(const Layout& l, const PyFrame& f) {
    if (f.opcode < 0) return true;
    return f.opcode == l.op_enter_with;
}

}  // namespace

std::optional<WaitTarget> find_wait_target(Memory& mem, Objects& obj, const Layout& l, const PyFrame& innermost,
                                           uint64_t own_thread_id, std::string* unverified) {
    if (auto rlock = py2_rlock_wait(mem, obj, l, innermost)) {
        if (rlock->lock->locked && rlock->lock->owner_thread_id != own_thread_id) return rlock;
    }
    // Locks first, topmost slot first: the receiver of the blocking call sits near the top, while
    // locks this thread already holds (the __exit__ of an outer `with`) sit below it.
    for (size_t i = innermost.stack_values.size(); i-- > 0;) {
        uint64_t v = innermost.stack_values[i];
        // 3.12+ enters a `with` with the manager on the stack: a bound __exit__ there is a lock
        // this thread holds, not one it waits for; ≤3.11 pushes __exit__ before __enter__ blocks.
        if (v < 4096 || ((l.op_enter_with < 0 || !entering_with(l, innermost)) && bound_exit_self(mem, obj, l, v))) continue;
        // 3.14+: a lock right above an __exit__ descriptor is an open block's manager, held; a
        // thread entering the block has it again above, as the receiver of the __enter__ call.
        if (i > 0 && exit_descriptor(mem, obj, l, innermost.stack_values[i - 1])) continue;
        const std::string& type = obj.type_name(v);
        if (type == "builtin_function_or_method" || type == "method")  // ≤3.6 pushes bound methods
            v = mem.ptr(v + (type == "method" ? l.method_self : 24));
        auto lock = read_lock(mem, obj, l, v);
        if (lock && !lock->state_known && unverified && unverified->empty())
            *unverified = lock->kind + " at " + hex_addr(v) + ": " + lock->unknown_reason;
        // An unlocked lock blocks nobody; one whose state cannot be read is no evidence of a wait.
        if (!lock || !lock->state_known || !lock->locked) continue;
        if (lock->kind == "RLock" && lock->owner_thread_id == own_thread_id) continue;
        return WaitTarget{innermost.function, obj.type_name(v), v, lock};
    }
    static const char* waitables[] = {"Thread", "Condition", "Event", "Semaphore", "BoundedSemaphore",
                                      "Barrier", "Queue", "Future", "_thread._ThreadHandle"};
    for (uint64_t v : innermost.stack_values) {
        if (v < 4096) continue;
        const std::string& type = obj.type_name(v);
        for (const char* name : waitables)
            if (type == name) return WaitTarget{innermost.function, type, v, std::nullopt};
    }
    return std::nullopt;
}


std::vector<HeldLock> find_with_locks(Memory& mem, Objects& obj, const Layout& l, const FrameChain& stack) {
    std::vector<HeldLock> out;
    std::unordered_set<uint64_t> seen;
    for (size_t f = 0; f < stack.frames.size(); ++f) {
        const auto& slots = stack.frames[f].stack_values;
        int live_slots = stack.frames[f].live_slots;
        size_t live = live_slots >= 0 ? std::min(slots.size(), static_cast<size_t>(live_slots)) : slots.size();
        for (size_t i = 0; i < live; ++i) {
            uint64_t lock = with_lock_at(mem, obj, l, slots, i, live);
            if (!lock) continue;
            if (seen.insert(lock ^ (uint64_t{f} << 48)).second) out.push_back({lock, f});
        }
    }
    return out;
}

std::vector<ExceptionLink> exception_chain(Memory& mem, Objects& obj, const Layout& l, uint64_t exc,
                                           const ReprLimits& limits) {
    std::vector<ExceptionLink> chain;
    std::unordered_set<uint64_t> seen;
    std::string relation;
    while (exc && chain.size() < 16 && seen.insert(exc).second) {
        if (!obj.has_flag(exc, kBaseExcSubclass)) {
            // ≤3.11 may hold an unnormalized value (a str or tuple) while raising.
            chain.push_back({relation, obj.exception_type(exc), obj.repr(exc, limits), exc});
            break;
        }
        chain.push_back({relation, obj.exception_type(exc), obj.repr(exc, limits), exc});
        uint64_t cause = l.exc_cause >= 0 ? mem.ptr(exc + l.exc_cause) : 0;
        uint64_t context = l.exc_context >= 0 ? mem.ptr(exc + l.exc_context) : 0;
        if (cause && obj.type_name(cause) != "NoneType") {
            exc = cause;
            relation = "cause";
        } else if (context && obj.type_name(context) != "NoneType") {
            exc = context;
            relation = "context";
        } else {
            break;
        }
    }
    return chain;
}

}  // namespace snag::python
