// Python Objects: decoding str, int, float and containers from remote memory, and repr-like text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "python/layout.hpp"
#include "python/memory.hpp"

namespace snag::python {

struct ReprLimits {
    int depth = 3;            // nesting of containers and instance attributes
    size_t items = 16;        // elements shown per container
    size_t string_chars = 200;
    size_t total_chars = 1000;
    // gdb's libpython (Tools/gdb/libpython.py): an instance of a heap type as
    // <Name(attr=value, ...) at remote 0x…> (an instance met again as <...>), an object of a
    // type it has no printer for as <tp_name at remote 0x…> (functions, classes, floats,
    // modules, locks), nesting unlimited, the whole cut at 1024 characters with "...(truncated)".
    bool libpython = false;

    // What gdb's libpython prints (MAX_OUTPUT_LEN), within bounds that keep a damaged heap finite.
    static ReprLimits gdb_libpython() {
        ReprLimits l;
        l.depth = 32;
        l.items = 1000;
        l.string_chars = 1024;
        l.total_chars = 1024;
        l.libpython = true;
        return l;
    }
};

// tp_flags bits that identify the built-in families (Include/object.h).
enum TypeFlag : uint64_t {
    kManagedDict = 1ull << 4,
    kInlineValues = 1ull << 2,
    kHeapType = 1ull << 9,
    kIntSubclass = 1ull << 23,         // Python 2 int
    kLongSubclass = 1ull << 24,
    kListSubclass = 1ull << 25,
    kTupleSubclass = 1ull << 26,
    kBytesSubclass = 1ull << 27,
    kUnicodeSubclass = 1ull << 28,
    kDictSubclass = 1ull << 29,
    kBaseExcSubclass = 1ull << 30,
    kTypeSubclass = 1ull << 31,
};

class Objects {
public:
    Objects(Memory& memory, const Layout& layout) : mem_(memory), l_(layout) {}

    uint64_t type_of(uint64_t obj) { return mem_.ptr(obj + l_.ob_type); }
    // tp_name of the object's type ("str", "_thread.RLock"); empty when unreadable.
    const std::string& type_name(uint64_t obj);
    uint64_t type_flags(uint64_t type);
    bool has_flag(uint64_t obj, uint64_t flag) { return type_flags(type_of(obj)) & flag; }

    // Text of a str object as UTF-8 (at most max_chars code points); nullopt if not a str.
    std::optional<std::string> str(uint64_t obj, size_t max_chars = 4096);
    std::optional<std::string> bytes(uint64_t obj, size_t max = 1 << 20);
    // Small ints as int64; nullopt when too big or not an int.
    std::optional<int64_t> small_int(uint64_t obj);

    // Elements of a tuple or list (capped).
    std::vector<uint64_t> sequence_items(uint64_t obj, size_t max = 100000);
    // (key, value) pairs of a dict (capped); split tables included.
    std::vector<std::pair<uint64_t, uint64_t>> dict_items(uint64_t dict, size_t max = 100000);
    // Attribute dict entries of an instance (__dict__, managed dicts and inline values).
    std::vector<std::pair<std::string, uint64_t>> instance_attributes(uint64_t obj, size_t max);
    // Value stored under a str key in a dict.
    std::optional<uint64_t> dict_get(uint64_t dict, const std::string& key);
    // Members of a set or frozenset (capped).
    std::vector<uint64_t> set_items(uint64_t obj, size_t max);
    // An exception's type name as Python code spells it (2.7 drops "exceptions.").
    std::string exception_type(uint64_t exc);
    // Qualified name of a class, function or code object.
    std::optional<std::string> qualname(uint64_t obj);

    // fresh = false: the instances the previous libpython repr showed are <...> in this one.
    std::string repr(uint64_t obj, const ReprLimits& limits = {}, bool fresh = true);
    // 2.7 thread.lock: locked or not; nullopt when the semaphore is unreadable.
    std::optional<bool> py2_lock_locked(uint64_t lock);

private:
    std::string repr_at(uint64_t obj, int depth, const ReprLimits& limits);
    std::string repr_int(uint64_t obj);
    std::string repr_container(uint64_t obj, const std::string& type, int depth,
                               const ReprLimits& limits);
    std::string repr_instance(uint64_t obj, const std::string& type, int depth,
                              const ReprLimits& limits);
    std::string repr_lock(uint64_t obj, const std::string& type);
    std::string repr_builtin(uint64_t obj);
    std::optional<std::string> libpython_repr(uint64_t obj, const std::string& type, uint64_t flags, int depth,
                                              const ReprLimits& limits);
    std::vector<std::pair<uint64_t, uint64_t>> keys_entries(uint64_t keys, uint64_t values,
                                                            size_t max);
    // Python 2.7 (objects27.cpp): str is PyStringObject, unicode has a separate buffer, dicts
    // are one table of {hash, key, value}, old-style instances keep their dict at in_dict.
    std::optional<std::string> py2_str(uint64_t obj, size_t max_chars);
    std::optional<std::u32string> py2_code_points(uint64_t unicode, size_t max_chars);
    std::vector<std::pair<uint64_t, uint64_t>> py2_dict_items(uint64_t dict, size_t max);
    std::optional<std::string> py2_repr(uint64_t obj, uint64_t flags, const ReprLimits& limits);
    std::string py2_class_name(uint64_t instance);
    uint64_t py2_instance_dict(uint64_t instance);

    Memory& mem_;
    const Layout& l_;
    std::unordered_map<uint64_t, std::string> type_names_;
    std::unordered_map<uint64_t, uint64_t> type_flags_;
    std::unordered_map<uint64_t, std::string> strings_;
    std::unordered_set<uint64_t> visited_;  // libpython mode: the instances one repr has shown
};

// Python's float repr: shortest text that reads back to the same double.
std::string float_repr(double value);
// Python's str repr with quotes and escapes, for UTF-8 text.
std::string quote_str(const std::string& utf8);
std::string quote_bytes(const std::string& raw);
void append_utf8(std::string& out, uint32_t code_point);
std::string hex_addr(uint64_t address);  // 0x7f…

}  // namespace snag::python
