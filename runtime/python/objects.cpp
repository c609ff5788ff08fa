#include "python/objects.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <cstdarg>

#include "python/lock_layout.hpp"

namespace snag::python {

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 63)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 63)));
        out.push_back(static_cast<char>(0x80 | (cp & 63)));
    } else if (cp < 0x110000) {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 63)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 63)));
        out.push_back(static_cast<char>(0x80 | (cp & 63)));
    } else {
        out += "\xEF\xBF\xBD";  // U+FFFD for impossible code points
    }
}

namespace {

std::string printf_string(const char* format, ...) {
    char buf[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    return buf;
}

}  // namespace


namespace {

// Decimal text of a magnitude held in base-2^bits digits, least significant first.
std::string digits_to_decimal(std::vector<uint32_t> digits, int bits) {
    std::string out;
    auto is_zero = [&] {
        for (auto d : digits) if (d) return false;
        return true;
    };
    while (!is_zero()) {
        uint64_t rem = 0;
        for (size_t i = digits.size(); i-- > 0;) {
            uint64_t cur = (rem << bits) | digits[i];
            digits[i] = static_cast<uint32_t>(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        std::string chunk = std::to_string(rem);
        if (!is_zero()) chunk.insert(0, 9 - chunk.size(), '0');
        out.insert(0, chunk);
    }
    return out.empty() ? "0" : out;
}

}  // namespace

std::string hex_addr(uint64_t a) { return printf_string("%#lx", static_cast<unsigned long>(a)); }

std::string float_repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
    char buf[64];
    int precision = 1;
    for (; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*e", precision - 1, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    // buf is [-]d.ddde±XX: split into sign, digits and decimal exponent.
    std::string s = buf;
    bool negative = s[0] == '-';
    if (negative) s.erase(0, 1);
    auto e = s.find('e');
    int exponent = std::atoi(s.c_str() + e + 1);
    std::string digits = s.substr(0, e);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    int decpt = exponent + 1;
    std::string out = negative ? "-" : "";
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) out += "0." + std::string(-decpt, '0') + digits;
        else if (decpt >= static_cast<int>(digits.size()))
            out += digits + std::string(decpt - digits.size(), '0') + ".0";
        else out += digits.substr(0, decpt) + "." + digits.substr(decpt);
    } else {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        out += printf_string("e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    }
    return out;
}

std::string quote_str(const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos;
    char q = has_single && s.find('"') == std::string::npos ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == q || c == '\\') { out += '\\'; out += static_cast<char>(c); }
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) out += printf_string("\\x%02x", c);
        else out += static_cast<char>(c);
    }
    return out + q;
}

std::string quote_bytes(const std::string& raw) {
    bool has_single = raw.find('\'') != std::string::npos;
    char q = has_single && raw.find('"') == std::string::npos ? '"' : '\'';
    std::string out = "b";
    out += q;
    for (unsigned char c : raw) {
        if (c == q || c == '\\') { out += '\\'; out += static_cast<char>(c); }
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c >= 0x7f) out += printf_string("\\x%02x", c);
        else out += static_cast<char>(c);
    }
    return out + q;
}

const std::string& Objects::type_name(uint64_t obj) {
    uint64_t type = type_of(obj);
    auto it = type_names_.find(type);
    if (it != type_names_.end()) return it->second;
    std::string name;
    if (type) {
        auto text = mem_.cstring(mem_.ptr(type + l_.tp_name), 200);
        if (text) name = *text;
    }
    return type_names_.emplace(type, name).first->second;
}

uint64_t Objects::type_flags(uint64_t type) {
    auto it = type_flags_.find(type);
    if (it != type_flags_.end()) return it->second;
    uint64_t flags = type ? mem_.u64(type + l_.tp_flags).value_or(0) : 0;
    type_flags_[type] = flags;
    return flags;
}

std::optional<std::string> Objects::str(uint64_t obj, size_t max_chars) {
    if (l_.py2_objects) return py2_str(obj, max_chars);
    if (!obj || !has_flag(obj, kUnicodeSubclass)) return std::nullopt;
    auto it = strings_.find(obj);
    if (it != strings_.end() && max_chars >= 4096) return it->second;
    auto length = mem_.i64(obj + l_.str_length);
    auto state = mem_.value<uint32_t>(obj + l_.str_state);
    if (!length || !state || *length < 0) return std::nullopt;
    int shift = l_.free_threaded && l_.minor >= 14 ? 8 : 2;
    unsigned kind = (*state >> shift) & 7;
    bool compact = (*state >> (shift + 3)) & 1;
    bool ascii = (*state >> (shift + 4)) & 1;
    if (kind != 1 && kind != 2 && kind != 4) return std::nullopt;  // wchar-only legacy strings
    uint64_t data = compact ? obj + (ascii ? l_.str_ascii_size : l_.str_compact_size)
                            : mem_.ptr(obj + l_.str_legacy_data);
    size_t n = std::min<size_t>(static_cast<size_t>(*length), max_chars);
    std::string raw = mem_.read_bytes(data, n * kind);
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i + kind <= raw.size(); i += kind) {
        uint32_t cp = 0;
        std::memcpy(&cp, raw.data() + i, kind);
        append_utf8(out, cp);
    }
    if (raw.size() < n * kind) return std::nullopt;
    if (max_chars >= 4096) strings_[obj] = out;
    return out;
}

std::optional<std::string> Objects::bytes(uint64_t obj, size_t max) {
    if (!obj || !has_flag(obj, kBytesSubclass)) return std::nullopt;
    auto size = mem_.i64(obj + l_.var_size);
    if (!size || *size < 0) return std::nullopt;
    return mem_.read_bytes(obj + l_.bytes_data, std::min<size_t>(*size, max));
}

std::optional<int64_t> Objects::small_int(uint64_t obj) {
    if (obj && l_.py2_objects && has_flag(obj, kIntSubclass)) return mem_.i64(obj + l_.int_value);
    if (!obj || !has_flag(obj, kLongSubclass)) return std::nullopt;
    auto head = mem_.i64(obj + l_.long_tag);
    if (!head) return std::nullopt;
    int64_t ndigits, sign;
    if (l_.long_tagged) {
        ndigits = static_cast<int64_t>(static_cast<uint64_t>(*head) >> 3);
        sign = 1 - (*head & 3);
    } else {
        ndigits = *head == INT64_MIN ? INT64_MAX : std::llabs(*head);  // llabs(INT64_MIN) is undefined
        sign = *head < 0 ? -1 : 1;
    }
    if (ndigits > 2) return std::nullopt;
    uint32_t d[2] = {0, 0};
    if (ndigits && !mem_.read(obj + l_.long_digits, d, 4 * ndigits)) return std::nullopt;
    return sign * static_cast<int64_t>(d[0] | (static_cast<uint64_t>(d[1]) << 30));
}

std::string Objects::repr_int(uint64_t obj) {
    auto head = mem_.i64(obj + l_.long_tag);
    if (!head) return "<int: unreadable>";
    int64_t ndigits;
    bool negative;
    if (l_.long_tagged) {
        ndigits = static_cast<int64_t>(static_cast<uint64_t>(*head) >> 3);
        negative = (*head & 3) == 2;
    } else {
        ndigits = *head == INT64_MIN ? INT64_MAX : std::llabs(*head);  // llabs(INT64_MIN) is undefined
        negative = *head < 0;
    }
    if (ndigits > 2000) return printf_string("<int with %ld digits>", static_cast<long>(ndigits));
    std::vector<uint32_t> digits(ndigits);
    if (ndigits && !mem_.read(obj + l_.long_digits, digits.data(), 4 * ndigits))
        return "<int: unreadable>";
    for (auto& d : digits) d &= (1u << 30) - 1;
    return (negative ? "-" : "") + digits_to_decimal(std::move(digits), 30);
}

std::vector<uint64_t> Objects::sequence_items(uint64_t obj, size_t max) {
    std::vector<uint64_t> out;
    auto size = mem_.i64(obj + l_.var_size);
    if (!size || *size < 0) return out;
    size_t n = std::min<size_t>(*size, max);
    uint64_t base = has_flag(obj, kTupleSubclass) ? obj + l_.tuple_items : mem_.ptr(obj + l_.list_items);
    out.resize(n);
    if (n && !mem_.read(base, out.data(), 8 * n)) out.clear();
    return out;
}

std::vector<std::pair<uint64_t, uint64_t>> Objects::keys_entries(uint64_t keys, uint64_t values,
                                                                 size_t max) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    if (!keys) return out;
    uint64_t entries;
    size_t entry_size = 24, key_at = 8;
    int64_t nentries;
    if (l_.dict_keys_311) {
        auto log2_index_bytes = mem_.value<uint8_t>(keys + 9);
        auto kind = mem_.value<uint8_t>(keys + 10);
        auto n = mem_.i64(keys + 24);
        if (!log2_index_bytes || !kind || !n || *log2_index_bytes > 40) return out;
        entries = keys + 32 + (1ull << *log2_index_bytes);
        if (*kind != 0) { entry_size = 16; key_at = 0; }
        nentries = *n;
    } else {
        auto size = mem_.i64(keys + 8);
        auto n = mem_.i64(keys + 32);
        if (!size || !n || *size <= 0 || *size > (1ll << 40)) return out;
        int width = *size <= 0xff ? 1 : *size <= 0xffff ? 2 : *size <= 0xffffffffll ? 4 : 8;
        entries = keys + 40 + *size * width;
        nentries = *n;
    }
    if (nentries < 0) return out;
    size_t n = std::min<size_t>(nentries, 1 << 20);
    uint64_t values_base = values ? values + l_.dict_split_values_header : 0;
    for (size_t i = 0; i < n && out.size() < max; ++i) {
        uint64_t entry = entries + i * entry_size;
        uint64_t key = mem_.ptr(entry + key_at);
        if (!key) continue;
        uint64_t value = values_base ? mem_.ptr(values_base + 8 * i) : mem_.ptr(entry + key_at + 8);
        if (!value) continue;  // deleted entries and unset split values
        out.emplace_back(key, value);
    }
    return out;
}

std::vector<std::pair<uint64_t, uint64_t>> Objects::dict_items(uint64_t dict, size_t max) {
    if (!dict || !has_flag(dict, kDictSubclass)) return {};
    if (l_.py2_objects) return py2_dict_items(dict, max);
    return keys_entries(mem_.ptr(dict + l_.dict_keys), mem_.ptr(dict + l_.dict_values), max);
}

std::optional<uint64_t> Objects::dict_get(uint64_t dict, const std::string& key) {
    for (auto [k, v] : dict_items(dict)) {
        auto name = str(k);
        if (name && *name == key) return v;
    }
    return std::nullopt;
}

std::vector<std::pair<std::string, uint64_t>> Objects::instance_attributes(uint64_t obj, size_t max) {
    std::vector<std::pair<uint64_t, uint64_t>> raw;
    uint64_t type = type_of(obj);
    uint64_t flags = type_flags(type);
    auto dictoffset = mem_.i64(type + l_.tp_dictoffset).value_or(0);
    uint64_t dict = 0;
    if (l_.minor >= 11 && (flags & kManagedDict)) {
        uint64_t slot = mem_.ptr(obj - 24);
        uint64_t cached_keys = l_.ht_qualname >= 0 ? mem_.ptr(type + l_.ht_qualname + 8) : 0;
        if (l_.minor >= 13 && (flags & kInlineValues) && !slot) {
            auto basicsize = mem_.i64(type + l_.tp_basicsize).value_or(0);
            raw = keys_entries(cached_keys, obj + basicsize, max);
        } else if (l_.minor == 12 && (slot & 1)) {
            raw = keys_entries(cached_keys, slot + 1, max);  // 3.12 stores values - 1 as a tag
        } else if (l_.minor == 11 && !slot && mem_.ptr(obj - 32)) {
            raw = keys_entries(cached_keys, mem_.ptr(obj - 32), max);
        } else {
            dict = slot;
        }
    } else if (l_.py2_objects && type_name(obj) == "instance") {
        dict = py2_instance_dict(obj);
    } else if (dictoffset > 0 && dictoffset < 1 << 16) {
        dict = mem_.ptr(obj + dictoffset);
    }
    if (dict) raw = dict_items(dict, max);
    std::vector<std::pair<std::string, uint64_t>> out;
    for (auto [k, v] : raw) out.emplace_back(str(k, 100).value_or("?"), v);
    return out;
}

std::string Objects::exception_type(uint64_t exc) {
    const std::string& type = type_name(exc);
    if (l_.py2_objects && type.rfind("exceptions.", 0) == 0) return type.substr(11);
    return type;
}

std::optional<std::string> Objects::qualname(uint64_t obj) {
    const std::string& type = type_name(obj);
    if (has_flag(obj, kTypeSubclass)) {
        uint64_t flags = type_flags(obj);
        if ((flags & kHeapType) && l_.ht_qualname >= 0) return str(mem_.ptr(obj + l_.ht_qualname), 200);
        auto name = mem_.cstring(mem_.ptr(obj + l_.tp_name), 200);
        return name;
    }
    Off function_name = l_.func_qualname >= 0 ? l_.func_qualname : l_.func_name;
    if (type == "function" && function_name >= 0) return str(mem_.ptr(obj + function_name), 200);
    if (type == "code") {
        Off at = l_.co_qualname >= 0 ? l_.co_qualname : l_.co_name;
        return str(mem_.ptr(obj + at), 200);
    }
    return std::nullopt;
}

std::vector<uint64_t> Objects::set_items(uint64_t obj, size_t max) {
    std::vector<uint64_t> out;
    auto mask = mem_.i64(obj + l_.set_mask);
    uint64_t table = mem_.ptr(obj + l_.set_table);
    if (!mask || *mask < 0 || *mask > (1 << 24) || !table) return out;
    for (int64_t i = 0; i <= *mask && out.size() < max; ++i) {
        uint64_t key = mem_.ptr(table + 16 * i + l_.set_entry_key);
        if (!key || type_name(key) == "<dummy key> type") continue;
        if (l_.py2_objects && str(key) == "<dummy key>") continue;  // 2.7's dummy is a str
        out.push_back(key);
    }
    return out;
}

std::string Objects::repr_container(uint64_t obj, const std::string& type, int depth,
                                    const ReprLimits& limits) {
    bool is_tuple = has_flag(obj, kTupleSubclass), is_list = has_flag(obj, kListSubclass);
    bool is_dict = has_flag(obj, kDictSubclass);
    std::string open = is_tuple ? "(" : is_list ? "[" : "{", close = is_tuple ? ")" : is_list ? "]" : "}";
    if (depth >= limits.depth) return open + "..." + close;
    std::string out = open;
    size_t shown = 0;
    auto add = [&](const std::string& text) {
        if (shown) out += ", ";
        out += text;
        ++shown;
    };
    size_t total = 0;
    if (is_dict) {
        auto items = dict_items(obj, limits.items + 1);
        total = items.size();
        for (size_t i = 0; i < items.size() && i < limits.items; ++i)
            add(repr_at(items[i].first, depth + 1, limits) + ": " + repr_at(items[i].second, depth + 1, limits));
    } else if (is_tuple || is_list) {
        auto items = sequence_items(obj, limits.items + 1);
        // An empty repr would hide the damage: a size with no readable (or a NULL) item array.
        int64_t size = mem_.i64(obj + l_.var_size).value_or(-1);
        if (size < 0 || (size > 0 && items.empty()))
            return "<" + type + " object at " + hex_addr(obj) + " (damaged: " +
                   (size < 0 ? std::string("unreadable or negative size")
                             : std::to_string(size) + " items, item array " +
                                   (is_list && !mem_.ptr(obj + l_.list_items) ? "NULL" : "unreadable")) + ")>";
        total = items.size();
        for (size_t i = 0; i < items.size() && i < limits.items; ++i) add(repr_at(items[i], depth + 1, limits));
        if (is_tuple && total == 1) out += ",";
    } else {
        auto items = set_items(obj, limits.items + 1);
        total = items.size();
        if (items.empty()) return type + "()";
        for (size_t i = 0; i < items.size() && i < limits.items; ++i) add(repr_at(items[i], depth + 1, limits));
    }
    if (total > limits.items) out += ", ...";
    out += close;
    if (type == "frozenset") out = "frozenset(" + out + ")";
    return out;
}

// CPython's own lock reprs; a lock whose layout cannot be verified says so instead of a state.
std::string Objects::repr_lock(uint64_t obj, const std::string& type) {
    bool rlock = type == "_thread.RLock";
    LockState s = read_lock_state(mem_, l_, obj, rlock);
    if (!s.known) return "<" + type + " object at " + hex_addr(obj) + " (state unknown: " + s.unknown_reason + ")>";
    if (!rlock) return std::string("<") + (s.locked ? "locked" : "unlocked") + " _thread.lock object at " + hex_addr(obj) + ">";
    return printf_string("<%s _thread.RLock object owner=%#lx count=%lu at %s>", s.locked ? "locked" : "unlocked",
                         static_cast<unsigned long>(s.owner_thread_id), static_cast<unsigned long>(s.count),
                         hex_addr(obj).c_str());
}

// As gdb's libpython shows a PyCFunctionObject (m_ml, then m_self after the object header): py-bt
// and py-print name a built-in call the same way under both tools.
std::string Objects::repr_builtin(uint64_t obj) {
    uint64_t method_def = mem_.ptr(obj + static_cast<uint64_t>(l_.ob_type + 8));
    uint64_t self = mem_.ptr(obj + static_cast<uint64_t>(l_.ob_type + 16));
    auto name = method_def ? mem_.cstring(mem_.ptr(method_def), 200) : std::nullopt;
    if (!name) return "<built-in function at remote " + hex_addr(obj) + ">";
    if (!self) return "<built-in function " + *name + ">";
    return "<built-in method " + *name + " of " + type_name(self) + " object at remote " + hex_addr(self) + ">";
}

std::string Objects::repr_instance(uint64_t obj, const std::string& type, int depth,
                                   const ReprLimits& limits) {
    std::string out = "<" + type + " object at " + hex_addr(obj);
    if (depth == 0) {  // nested instances stay short: their attributes would swamp the line
        auto attrs = instance_attributes(obj, limits.items + 1);
        for (size_t i = 0; i < attrs.size() && i < limits.items; ++i)
            out += (i ? ", " : ": ") + attrs[i].first + "=" + repr_at(attrs[i].second, depth + 1, limits);
        if (attrs.size() > limits.items) out += ", ...";
    }
    return out + ">";
}

// The printers libpython chooses by type (its subclass_from_type); nullopt where its printer and
// snag's agree (int, str, bytes, containers, bool, None, exceptions, built-in methods).
std::optional<std::string> Objects::libpython_repr(uint64_t obj, const std::string& type, uint64_t flags, int depth,
                                                   const ReprLimits& limits) {
    static const char* own[] = {"bool", "NoneType", "set", "frozenset", "builtin_function_or_method",
                                "method-wrapper", "frame"};
    for (const char* name : own)
        if (type == name) return std::nullopt;
    if (flags & kHeapType) {
        if (!visited_.insert(obj).second) return "<...>";
        std::string out = "<" + type;
        std::vector<std::pair<std::string, uint64_t>> attrs;
        if (depth < limits.depth) attrs = instance_attributes(obj, limits.items);
        auto dictoffset = mem_.i64(type_of(obj) + l_.tp_dictoffset).value_or(0);
        if (!attrs.empty() || dictoffset != 0 || (flags & kManagedDict)) {
            out += "(";
            for (size_t i = 0; i < attrs.size(); ++i)
                out += (i ? ", " : "") + attrs[i].first + "=" + repr_at(attrs[i].second, depth + 1, limits);
            out += ")";
        }
        return out + " at remote " + hex_addr(obj) + ">";
    }
    if (flags & (kLongSubclass | kListSubclass | kTupleSubclass | kBytesSubclass | kUnicodeSubclass | kDictSubclass |
                 kBaseExcSubclass))
        return std::nullopt;
    return "<" + type + " at remote " + hex_addr(obj) + ">";
}

std::string Objects::repr_at(uint64_t obj, int depth, const ReprLimits& limits) {
    if (!obj) return limits.libpython ? "0x0" : "<NULL>";
    const std::string type = type_name(obj);
    if (type.empty()) return "<unreadable object at " + hex_addr(obj) + ">";
    uint64_t flags = type_flags(type_of(obj));
    if (limits.libpython && !l_.py2_objects)
        if (auto text = libpython_repr(obj, type, flags, depth, limits)) return *text;
    if (l_.py2_objects) {
        if (auto text = py2_repr(obj, flags, limits)) return *text;
        if (type == "instance") return repr_instance(obj, py2_class_name(obj), depth, limits);
    }
    if (type == "NoneType") return "None";
    if (type == "bool") return small_int(obj).value_or(0) ? "True" : "False";
    if (flags & kLongSubclass) return repr_int(obj);
    if (type == "float") {
        auto v = mem_.value<double>(obj + l_.float_value);
        return v ? float_repr(*v) : "<float: unreadable>";
    }
    if (flags & kUnicodeSubclass) {
        auto s = str(obj, limits.string_chars);
        if (!s) return "<str: unreadable>";
        auto len = mem_.i64(obj + l_.str_length).value_or(0);
        return quote_str(*s) + (len > static_cast<int64_t>(limits.string_chars) ? "..." : "");
    }
    if (flags & kBytesSubclass) {
        auto b = bytes(obj, limits.string_chars);
        return b ? quote_bytes(*b) : "<bytes: unreadable>";
    }
    if (flags & (kTupleSubclass | kListSubclass | kDictSubclass) || type == "set" || type == "frozenset")
        return repr_container(obj, type, depth, limits);
    if (flags & kTypeSubclass) return "<class '" + qualname(obj).value_or("?") + "'>";
    if (type == "function") return "<function " + qualname(obj).value_or("?") + " at " + hex_addr(obj) + ">";
    if (type == "code") return "<code object " + qualname(obj).value_or("?") + " at " + hex_addr(obj) + ">";
    if (type == "cell") {
        uint64_t ref = mem_.ptr(obj + l_.cell_ref);
        return ref ? repr_at(ref, depth, limits) : "<empty cell>";
    }
    if (type == "method") {
        uint64_t fn = mem_.ptr(obj + l_.method_func), self = mem_.ptr(obj + l_.method_self);
        return "<bound method " + qualname(fn).value_or("?") + " of " + repr_at(self, limits.depth, limits) + ">";
    }
    if (type == "module") {
        uint64_t md_dict = mem_.ptr(obj + l_.module_dict);
        auto name = dict_get(md_dict, "__name__");
        return "<module " + (name ? quote_str(str(*name, 200).value_or("?")) : std::string("?")) + ">";
    }
    if (type == "_thread.lock" || type == "_thread.RLock") return repr_lock(obj, type);
    if (type == "builtin_function_or_method") return repr_builtin(obj);
    if (flags & kBaseExcSubclass) {
        uint64_t args = mem_.ptr(obj + l_.exc_args);
        auto items = args ? sequence_items(args, limits.items) : std::vector<uint64_t>{};
        std::string out = exception_type(obj) + "(";
        for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + repr_at(items[i], depth + 1, limits);
        return out + (l_.py2_objects && items.size() == 1 ? ",)" : ")");  // 2.7 shows the args tuple
    }
    return repr_instance(obj, type, depth, limits);
}

std::string Objects::repr(uint64_t obj, const ReprLimits& limits, bool fresh) {
    if (fresh) visited_.clear();
    std::string out = repr_at(obj, 0, limits);
    if (limits.libpython && out.size() > limits.total_chars) return out.substr(0, limits.total_chars) + "...(truncated)";
    if (out.size() > limits.total_chars) {
        size_t cut = limits.total_chars;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
        out = out.substr(0, cut) + "...";
    }
    return out;
}

}  // namespace snag::python
