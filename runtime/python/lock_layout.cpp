#include "python/lock_layout.hpp"

namespace snag::python {
namespace {

// The layouts CPython has shipped (x86_64, default build), measured with type(lock).__basicsize__
// and the object's bytes held and free: 3.6–3.13.0 {head, PyThread_type_lock, weakreflist, char
// locked}; 3.13.1+ {head, PyMutex}; RLock ≤3.13 {head, lock, owner, count, weakreflist}; 3.14+
// {head, _PyRecursiveMutex {PyMutex, thread, level}}.
struct KnownLayout {
    bool rlock;
    int first_minor, first_micro, last_minor;  // the releases that may have it
    Off basicsize;
    Off state;  // Lock: the locked byte; RLock: the owner ident
    bool mutex_or_level;  // Lock: state is a PyMutex (bit 0); RLock: count = level + 1
    Off count;
};

constexpr KnownLayout kKnown[] = {
    {false, 6, 0, 13, 40, 32, false, kAbsent},
    {false, 13, 1, 99, 24, 16, true, kAbsent},
    {true, 6, 0, 13, 48, 24, false, 32},
    {true, 14, 0, 99, 40, 24, true, 32},
};

bool may_have(const KnownLayout& k, const Layout& l) {
    if (l.minor < k.first_minor || l.minor > k.last_minor) return false;
    // 3.13.0 vs 3.13.1: without the patch version tp_basicsize alone decides.
    if (l.minor == 13 && l.micro >= 0) return k.rlock || (k.first_minor == 13) == (l.micro >= 1);
    return true;
}

LockState read_with(Memory& mem, uint64_t obj, bool rlock, Off state, bool mutex_or_level, Off count) {
    LockState s;
    if (!rlock) {
        auto byte = mem.value<uint8_t>(obj + state);
        if (!byte) return {false, false, 0, 0, "its memory is unreadable"};
        s.locked = mutex_or_level ? (*byte & 1) != 0 : *byte != 0;
    } else {
        auto owner = mem.u64(obj + state);
        auto n = mem.u64(obj + count);
        if (!owner || !n) return {false, false, 0, 0, "its memory is unreadable"};
        s.owner_thread_id = *owner;
        s.count = *n + (mutex_or_level && *owner ? 1 : 0);
        s.locked = s.owner_thread_id != 0 && s.count > 0;
    }
    s.known = true;
    return s;
}

}  // namespace

LockState read_lock_state(Memory& mem, const Layout& l, uint64_t obj, bool rlock) {
    uint64_t type = mem.ptr(obj + l.ob_type);
    auto basicsize = mem.i64(type + l.tp_basicsize);
    if (!type || !basicsize) return {false, false, 0, 0, "its type object is unreadable"};
    if (l.lock_from_dwarf) {
        Off size = rlock ? l.rlock_size : l.lock_size;
        if (size == *basicsize)
            return rlock ? read_with(mem, obj, true, l.rlock_owner, l.rlock_count_is_level, l.rlock_count)
                         : read_with(mem, obj, false, l.lock_locked, l.lock_is_mutex, kAbsent);
    }
    // The same fields follow a free-threaded build's bigger object header.
    Off extra = l.header_extra();
    for (const auto& k : kKnown)
        if (k.rlock == rlock && k.basicsize + extra == *basicsize && may_have(k, l))
            return read_with(mem, obj, rlock, k.state + extra, k.mutex_or_level,
                             k.count >= 0 ? k.count + extra : kAbsent);
    std::string version = "3." + std::to_string(l.minor) + (l.micro >= 0 ? "." + std::to_string(l.micro) : "");
    return {false, false, 0, 0,
            "its layout is not verified: tp_basicsize " + std::to_string(*basicsize) +
                " fits no known " + (rlock ? "RLock" : "Lock") + " layout of Python " + version +
                (l.free_threaded ? " (free-threaded)" : "")};
}

bool known_lock_layouts_cover(const Layout& l) {
    for (const auto& k : kKnown)
        if (!k.rlock && may_have(k, l)) return true;
    return false;
}

bool apply_dwarf_lock_layout(Symbolizer& symbols, const std::string& module_path, Layout& l) {
    auto slash = module_path.rfind('/');
    std::string prefix = (slash == std::string::npos ? module_path : module_path.substr(slash + 1)) + "!";
    const TypeInfo* lock = symbols.find_type(prefix + "lockobject");
    const TypeInfo* rlock = symbols.find_type(prefix + "rlockobject");
    if (!lock || !rlock) return false;
    Layout out = l;
    if (auto locked = member_offset(*lock, "locked")) {
        out.lock_locked = static_cast<Off>(*locked);
        out.lock_is_mutex = false;
    } else if (auto mutex = member_offset(*lock, "lock")) {
        out.lock_locked = static_cast<Off>(*mutex);  // PyMutex._bits: bit 0 is "locked"
        out.lock_is_mutex = true;
    } else {
        return false;
    }
    if (auto owner = member_offset(*rlock, "rlock_owner"), count = member_offset(*rlock, "rlock_count");
        owner && count) {
        out.rlock_owner = static_cast<Off>(*owner);
        out.rlock_count = static_cast<Off>(*count);
        out.rlock_count_is_level = false;
    } else if (auto thread = member_offset(*rlock, "lock.thread"), level = member_offset(*rlock, "lock.level");
               thread && level) {
        out.rlock_owner = static_cast<Off>(*thread);
        out.rlock_count = static_cast<Off>(*level);
        out.rlock_count_is_level = true;
    } else {
        return false;
    }
    out.lock_size = static_cast<Off>(lock->strip_typedefs().size);
    out.rlock_size = static_cast<Off>(rlock->strip_typedefs().size);
    out.lock_from_dwarf = true;
    l = out;
    return true;
}

}  // namespace snag::python
