#include "symbols/dwarf_value_text.hpp"

#include "base/hex.hpp"
#include "base/utf8.hpp"

#include <dwarf.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

namespace snag {

namespace {

constexpr size_t kPrintElements = 200;  // gdb's `set print elements`
constexpr size_t kRepeatThreshold = 10;  // gdb's `set print repeats`
constexpr int kMaxDepth = 20;            // gdb's `set print max-depth`

// Typedefs and qualifiers do not change how a value prints.
Dwarf_Die strip(Dwarf_Die* type) {
    Dwarf_Die die = *type;
    for (int guard = 0; guard < 64; ++guard) {
        int tag = dwarf_tag(&die);
        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
            tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
            break;
        Dwarf_Die next;
        if (!type_of(&die, &next)) break;
        die = next;
    }
    return die;
}

uint64_t attr_u(Dwarf_Die* die, unsigned name, uint64_t fallback) {
    Dwarf_Attribute attr;
    Dwarf_Word v;
    if (dwarf_attr_integrate(die, name, &attr) && dwarf_formudata(&attr, &v) == 0) return v;
    return fallback;
}

// Up to size (<= 8) little-endian bytes at offset, as far as bytes goes.
uint64_t load_u(const std::string& bytes, size_t offset, size_t size) {
    uint64_t v = 0;
    if (offset < bytes.size()) std::memcpy(&v, bytes.data() + offset, std::min({size, size_t{8}, bytes.size() - offset}));
    return v;
}

int64_t sign_extend(uint64_t v, size_t size) {
    if (size >= 8 || size == 0) return static_cast<int64_t>(v);
    unsigned shift = 64 - 8 * static_cast<unsigned>(size);
    return static_cast<int64_t>(v << shift) >> shift;
}

bool is_char_type(Dwarf_Die* type) {
    Dwarf_Die t = strip(type);
    if (dwarf_tag(&t) != DW_TAG_base_type || attr_u(&t, DW_AT_byte_size, 0) != 1) return false;
    uint64_t enc = attr_u(&t, DW_AT_encoding, 0);
    return enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char;
}

// One character inside quotes, escaped as gdb escapes it (quote: the enclosing quote).
std::string escaped(unsigned char c, char quote) {
    switch (c) {
        case '\a': return "\\a";
        case '\b': return "\\b";
        case '\f': return "\\f";
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        case '\v': return "\\v";
        case '\\': return "\\\\";
        default: break;
    }
    if (c == static_cast<unsigned char>(quote)) return std::string("\\") + quote;
    if (c < 0x20 || c >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03o", c);
        return buf;
    }
    return std::string(1, static_cast<char>(c));
}

// gdb's string text: quoted runs, and runs longer than the repeat threshold as
// 'c' <repeats N times>, joined with ", ". At most kPrintElements characters are shown (a
// repeat block counts as the threshold); "..." follows when some were left out.
std::string string_text(const std::string& chars, bool cut) {
    std::string out, quoted;
    auto flush = [&] {
        if (quoted.empty()) return;
        if (!out.empty()) out += ", ";
        out += "\"" + quoted + "\"";
        quoted.clear();
    };
    size_t printed = 0, i = 0;
    while (i < chars.size() && printed < kPrintElements) {
        size_t run = 1;
        while (i + run < chars.size() && chars[i + run] == chars[i]) ++run;
        if (run > kRepeatThreshold) {
            flush();
            if (!out.empty()) out += ", ";
            out += "'" + escaped(static_cast<unsigned char>(chars[i]), '\'') + "' <repeats " +
                   std::to_string(run) + " times>";
            i += run;
            printed += kRepeatThreshold;
        } else if (size_t n = utf8_length(chars, i)) {
            quoted += chars.substr(i, n);
            i += n;
            ++printed;
        } else {
            quoted += escaped(static_cast<unsigned char>(chars[i]), '"');
            ++i;
            ++printed;
        }
    }
    flush();
    if (out.empty()) out = "\"\"";
    return cut || i < chars.size() ? out + "..." : out;
}

// A NUL-terminated string at addr, at most kPrintElements characters.
std::string c_string(const ValuePrinter& p, uint64_t addr) {
    std::string chars;
    for (size_t i = 0; i < kPrintElements; ++i) {
        char c;
        if (!p.read(addr + i, &c, 1)) {
            if (i == 0) return "<error: Cannot access memory at address " + hex(addr) + ">";
            break;
        }
        if (c == '\0') return string_text(chars, false);
        chars += c;
    }
    return string_text(chars, chars.size() == kPrintElements);
}

std::string base_text(Dwarf_Die* t, const std::string& bytes) {
    size_t size = attr_u(t, DW_AT_byte_size, bytes.size());
    uint64_t enc = attr_u(t, DW_AT_encoding, DW_ATE_signed);
    uint64_t raw = load_u(bytes, 0, size);
    char buf[64];
    switch (enc) {
        case DW_ATE_boolean: return raw ? "true" : "false";
        case DW_ATE_float:
            if (size == 4) {
                float f;
                std::memcpy(&f, bytes.data(), 4);
                std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
            } else if (size == 8) {
                double d;
                std::memcpy(&d, bytes.data(), 8);
                std::snprintf(buf, sizeof buf, "%.17g", d);
            } else {
                long double ld = 0;
                std::memcpy(&ld, bytes.data(), std::min(bytes.size(), sizeof ld));
                std::snprintf(buf, sizeof buf, "%.21Lg", ld);
            }
            return buf;
        case DW_ATE_signed_char:
        case DW_ATE_unsigned_char: {
            int64_t n = enc == DW_ATE_signed_char ? sign_extend(raw, size) : static_cast<int64_t>(raw);
            return std::to_string(n) + " '" + escaped(static_cast<unsigned char>(raw), '\'') + "'";
        }
        case DW_ATE_unsigned:
        case DW_ATE_UTF: return std::to_string(raw);
        default: return std::to_string(sign_extend(raw, size));
    }
}

std::string pointer_text(const ValuePrinter& p, Dwarf_Die* t, const std::string& bytes) {
    uint64_t addr = load_u(bytes, 0, 8);
    if (addr == 0) return "0x0";
    Dwarf_Die pointee;
    bool has_pointee = type_of(t, &pointee);
    if (has_pointee && is_char_type(&pointee)) return hex(addr) + " " + c_string(p, addr);
    auto sym = p.symbolic ? p.symbolic(addr) : std::nullopt;
    return sym ? hex(addr) + " <" + *sym + ">" : hex(addr);
}

std::string enum_text(Dwarf_Die* t, const std::string& bytes) {
    size_t size = attr_u(t, DW_AT_byte_size, bytes.size());
    int64_t v = sign_extend(load_u(bytes, 0, size), size);
    Dwarf_Die child;
    if (dwarf_child(t, &child) == 0) {
        do {
            Dwarf_Attribute attr;
            Dwarf_Sword sv;
            if (dwarf_tag(&child) == DW_TAG_enumerator && dwarf_attr(&child, DW_AT_const_value, &attr) &&
                dwarf_formsdata(&attr, &sv) == 0 && sv == v) {
                const char* name = dwarf_diename(&child);
                return name ? name : std::to_string(v);
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    return std::to_string(v);
}

std::string struct_text(const ValuePrinter& p, Dwarf_Die* t, const std::string& bytes, int depth) {
    if (depth >= kMaxDepth) return "{...}";
    std::string out = "{";
    bool first = true;
    Dwarf_Die m;
    if (dwarf_child(t, &m) == 0) {
        do {
            int tag = dwarf_tag(&m);
            if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
            if (dwarf_hasattr(&m, DW_AT_external) || dwarf_hasattr(&m, DW_AT_declaration)) continue;  // static
            Dwarf_Die mt;
            if (!type_of(&m, &mt)) continue;
            uint64_t offset = attr_u(&m, DW_AT_data_member_location, 0);
            std::string text;
            if (uint64_t bits = attr_u(&m, DW_AT_bit_size, 0)) {
                uint64_t bit_offset = attr_u(&m, DW_AT_data_bit_offset, offset * 8);
                uint64_t word = load_u(bytes, bit_offset / 64 * 8, 8);
                uint64_t v = (word >> (bit_offset % 64)) & (bits >= 64 ? ~0ull : ((1ull << bits) - 1));
                Dwarf_Die base = strip(&mt);
                bool is_signed = attr_u(&base, DW_AT_encoding, DW_ATE_unsigned) == DW_ATE_signed;
                text = is_signed && bits < 64 && (v >> (bits - 1)) ? std::to_string(static_cast<int64_t>(v | (~0ull << bits)))
                                                                   : std::to_string(v);
            } else {
                size_t size = type_size(&mt).value_or(0);
                if (offset + size > bytes.size()) continue;
                text = p.text(&mt, bytes.substr(offset, size), depth + 1);
            }
            const char* name = dwarf_diename(&m);
            if (!first) out += ", ";
            first = false;
            if (tag == DW_TAG_inheritance) {
                Dwarf_Die base = strip(&mt);
                const char* bn = dwarf_diename(&base);
                out += "<" + std::string(bn ? bn : "") + "> = " + text;
            } else {
                out += name ? std::string(name) + " = " + text : text;
            }
        } while (dwarf_siblingof(&m, &m) == 0);
    }
    return out + "}";
}

// Element counts of an array's dimensions, outermost first; 0 for an unknown bound.
std::vector<uint64_t> dimensions(Dwarf_Die* t) {
    std::vector<uint64_t> dims;
    Dwarf_Die sub;
    if (dwarf_child(t, &sub) != 0) return dims;
    do {
        if (dwarf_tag(&sub) != DW_TAG_subrange_type) continue;
        uint64_t count = attr_u(&sub, DW_AT_count, 0);
        Dwarf_Attribute attr;
        Dwarf_Word upper;
        if (!count && dwarf_attr_integrate(&sub, DW_AT_upper_bound, &attr) && dwarf_formudata(&attr, &upper) == 0)
            count = upper + 1;
        dims.push_back(count);
    } while (dwarf_siblingof(&sub, &sub) == 0);
    return dims;
}

std::string array_text(const ValuePrinter& p, Dwarf_Die* elem, const std::vector<uint64_t>& dims, size_t dim,
                       const std::string& bytes, int depth) {
    uint64_t elem_size = type_size(elem).value_or(0);
    for (size_t d = dim + 1; d < dims.size(); ++d) elem_size *= dims[d];
    uint64_t count = dims[dim];
    if (elem_size == 0 || count == 0) return "{}";
    if (dim + 1 == dims.size() && is_char_type(elem)) {
        std::string chars = bytes.substr(0, count);
        if (!chars.empty() && chars.back() == '\0') chars.pop_back();  // gdb drops one trailing NUL
        return string_text(chars, false);
    }
    std::string out = "{";
    size_t printed = 0;
    for (uint64_t i = 0; i < count;) {
        if (printed >= kPrintElements) {
            out += "...";
            break;
        }
        std::string one = bytes.substr(i * elem_size, elem_size);
        uint64_t run = 1;
        while (i + run < count && bytes.compare((i + run) * elem_size, elem_size, one) == 0) ++run;
        std::string text = dim + 1 < dims.size() ? array_text(p, elem, dims, dim + 1, one, depth + 1)
                                                 : p.text(elem, one, depth + 1);
        if (printed) out += ", ";
        if (run > kRepeatThreshold) {
            out += text + " <repeats " + std::to_string(run) + " times>";
            i += run;
            printed += kRepeatThreshold;
        } else {
            out += text;
            ++i;
            ++printed;
        }
    }
    return out + "}";
}

}  // namespace

bool type_of(Dwarf_Die* die, Dwarf_Die* type) {
    Dwarf_Attribute attr;
    return dwarf_attr_integrate(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, type) != nullptr;
}

std::optional<uint64_t> type_size(Dwarf_Die* type) {
    Dwarf_Die t = strip(type);
    Dwarf_Word size;
    if (dwarf_tag(&t) == DW_TAG_pointer_type || dwarf_tag(&t) == DW_TAG_reference_type)
        return attr_u(&t, DW_AT_byte_size, 8);
    if (dwarf_aggregate_size(&t, &size) == 0) return size;
    return std::nullopt;
}

// Qualifiers are left out: the command language's types have none.
std::string type_spelling(Dwarf_Die* type) {
    Dwarf_Die t = *type;
    for (int guard = 0; guard < 64; ++guard) {
        int tag = dwarf_tag(&t);
        if (tag != DW_TAG_const_type && tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type &&
            tag != DW_TAG_atomic_type)
            break;
        if (!type_of(&t, &t)) return "void";
    }
    const char* name = dwarf_diename(&t);
    Dwarf_Die inner;
    switch (dwarf_tag(&t)) {
        case DW_TAG_base_type:
        case DW_TAG_typedef: return name ? name : "";
        case DW_TAG_structure_type: return name ? std::string("struct ") + name : "";
        case DW_TAG_union_type: return name ? std::string("union ") + name : "";
        case DW_TAG_enumeration_type: return name ? std::string("enum ") + name : "";
        case DW_TAG_pointer_type: {
            if (!type_of(&t, &inner)) return "void *";
            std::string target = type_spelling(&inner);
            if (target.empty() || target.find('[') != std::string::npos || target.find('(') != std::string::npos)
                return "";
            return target + (target.ends_with('*') ? "*" : " *");
        }
        case DW_TAG_array_type: {
            if (!type_of(&t, &inner)) return "";
            std::string element = type_spelling(&inner);
            if (element.empty() || element.find('[') != std::string::npos) return "";
            std::string out = element + " ";
            for (uint64_t n : dimensions(&t)) out += "[" + std::to_string(n) + "]";
            return out;
        }
        default: return "";
    }
}

std::string ValuePrinter::elements(Dwarf_Die* element, const std::vector<uint64_t>& dims,
                                  const std::string& bytes) const {
    return dims.empty() ? "{}" : array_text(*this, element, dims, 0, bytes, 0);
}

std::string ValuePrinter::text(Dwarf_Die* type, const std::string& bytes, int depth) const {
    Dwarf_Die t = strip(type);
    switch (dwarf_tag(&t)) {
        case DW_TAG_base_type: return base_text(&t, bytes);
        case DW_TAG_pointer_type:
        case DW_TAG_reference_type:
        case DW_TAG_rvalue_reference_type: return pointer_text(*this, &t, bytes);
        case DW_TAG_enumeration_type: return enum_text(&t, bytes);
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
        case DW_TAG_class_type: return struct_text(*this, &t, bytes, depth);
        case DW_TAG_array_type: {
            Dwarf_Die elem;
            auto dims = dimensions(&t);
            if (!type_of(&t, &elem) || dims.empty()) return "{}";
            return array_text(*this, &elem, dims, 0, bytes, depth);
        }
        default: return "<unknown type>";
    }
}

}  // namespace snag
