// Python 2.7 objects: str (bytes), unicode, int, old-style instances, dicts and thread.lock.
// Offsets from the 2.7 layout (layout27.cpp), checked against the DWARF of pyenv 2.7.18.
#include <cstdio>
#include <cstring>

#include "python/objects.hpp"

namespace snag::python {
namespace {

constexpr size_t kDictEntrySize = 24;  // PyDictEntry {me_hash, me_key, me_value}
constexpr Off kInstanceClass = 16, kInstanceDict = 24, kClassName = 32;

// Python 2's unicode repr: printable ASCII as is, everything else escaped (\xNN, \uNNNN, \UNNNNNNNN).
std::string unicode_repr(const std::u32string& points) {
    bool has_single = points.find(U'\'') != std::u32string::npos;
    char q = has_single && points.find(U'"') == std::u32string::npos ? '"' : '\'';
    std::string out = "u";
    out += q;
    char buf[16];
    for (char32_t c : points) {
        if (c == static_cast<char32_t>(q) || c == U'\\') { out += '\\'; out += static_cast<char>(c); }
        else if (c == U'\n') out += "\\n";
        else if (c == U'\r') out += "\\r";
        else if (c == U'\t') out += "\\t";
        else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else {
            const char* format = c < 0x100 ? "\\x%02x" : c < 0x10000 ? "\\u%04x" : "\\U%08x";
            std::snprintf(buf, sizeof buf, format, static_cast<unsigned>(c));
            out += buf;
        }
    }
    return out + q;
}

}  // namespace

// Up to max_chars code points of a unicode object (Py_UNICODE units in a separate buffer).
std::optional<std::u32string> Objects::py2_code_points(uint64_t obj, size_t max_chars) {
    auto length = mem_.i64(obj + l_.unicode_length);
    uint64_t buffer = mem_.ptr(obj + l_.unicode_buffer);
    if (!length || *length < 0 || !buffer) return std::nullopt;
    size_t unit = static_cast<size_t>(l_.unicode_unit), n = std::min<size_t>(*length, max_chars);
    std::string raw = mem_.read_bytes(buffer, n * unit);
    if (raw.size() < n * unit) return std::nullopt;
    std::u32string out(n, 0);
    for (size_t i = 0; i < n; ++i) std::memcpy(&out[i], raw.data() + i * unit, unit);
    return out;
}

// A str's bytes (names and file names are ASCII or UTF-8), or a unicode's code points as UTF-8.
std::optional<std::string> Objects::py2_str(uint64_t obj, size_t max_chars) {
    if (!obj) return std::nullopt;
    if (has_flag(obj, kBytesSubclass)) return bytes(obj, max_chars);
    if (!has_flag(obj, kUnicodeSubclass)) return std::nullopt;
    auto points = py2_code_points(obj, max_chars);
    if (!points) return std::nullopt;
    std::string out;
    for (char32_t cp : *points) append_utf8(out, cp);
    return out;
}

// Entries whose key and value are set: a NULL value marks a deleted (dummy) entry.
std::vector<std::pair<uint64_t, uint64_t>> Objects::py2_dict_items(uint64_t dict, size_t max) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    auto mask = mem_.i64(dict + l_.dict_mask);
    uint64_t table = mem_.ptr(dict + l_.dict_table);
    if (!mask || *mask < 0 || *mask >= (1ll << 26) || !table) return out;
    size_t slots = static_cast<size_t>(*mask) + 1;
    std::vector<uint64_t> raw(3 * std::min<size_t>(slots, 4096));
    for (size_t first = 0; first < slots && out.size() < max; first += raw.size() / 3) {
        size_t n = std::min(slots - first, raw.size() / 3);
        if (!mem_.read(table + first * kDictEntrySize, raw.data(), n * kDictEntrySize)) break;
        for (size_t i = 0; i < n && out.size() < max; ++i)
            if (raw[3 * i + 1] && raw[3 * i + 2]) out.emplace_back(raw[3 * i + 1], raw[3 * i + 2]);
    }
    return out;
}

// An old-style instance's class name (PyInstanceObject.in_class → PyClassObject.cl_name).
std::string Objects::py2_class_name(uint64_t instance) {
    return py2_str(mem_.ptr(mem_.ptr(instance + kInstanceClass) + kClassName), 200).value_or("?");
}

uint64_t Objects::py2_instance_dict(uint64_t instance) { return mem_.ptr(instance + kInstanceDict); }

// thread.lock wraps a POSIX semaphore: value 0 (the low 32 bits of glibc's sem_t) is locked.
std::optional<bool> Objects::py2_lock_locked(uint64_t lock) {
    uint64_t sem = mem_.ptr(lock + l_.lock_sem);
    auto value = sem ? mem_.value<uint32_t>(sem) : std::nullopt;
    if (!value) return std::nullopt;
    return *value == 0;
}

// repr of what differs in 2.7: int, long (…L), str ('…'), unicode (u'…') and locks; nullopt for everything 3.x code reads the same way.
std::optional<std::string> Objects::py2_repr(uint64_t obj, uint64_t flags, const ReprLimits& limits) {
    const std::string& type = type_name(obj);
    if (type == "bool") return small_int(obj).value_or(0) ? "True" : "False";
    if (flags & kIntSubclass) {
        auto v = mem_.i64(obj + l_.int_value);
        return v ? std::to_string(*v) : "<int: unreadable>";
    }
    if (flags & kLongSubclass) return repr_int(obj) + "L";
    if (flags & kBytesSubclass) {
        auto b = bytes(obj, limits.string_chars);
        if (!b) return "<str: unreadable>";
        auto len = mem_.i64(obj + l_.var_size).value_or(0);
        return quote_bytes(*b).substr(1) + (len > static_cast<int64_t>(limits.string_chars) ? "..." : "");
    }
    if (flags & kUnicodeSubclass) {
        auto points = py2_code_points(obj, limits.string_chars);
        if (!points) return "<unicode: unreadable>";
        auto len = mem_.i64(obj + l_.unicode_length).value_or(0);
        return unicode_repr(*points) + (len > static_cast<int64_t>(limits.string_chars) ? "..." : "");
    }
    if (type == "thread.lock") {
        auto locked = py2_lock_locked(obj);
        return std::string("<") + (locked && *locked ? "locked" : "unlocked") + " thread.lock object at " +
               hex_addr(obj) + ">";
    }
    return std::nullopt;
}

}  // namespace snag::python
