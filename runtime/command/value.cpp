#include "command/value.hpp"

#include "base/utf8.hpp"
#include "command/vector_value.hpp"

#include <cctype>
#include <cstdio>
#include <map>
#include <vector>

namespace snag::command {

namespace types {

namespace {
TypePtr make(CType::Kind kind, std::string name, uint64_t size, bool is_signed, TypePtr target = nullptr) {
    auto t = std::make_shared<CType>();
    t->kind = kind;
    t->name = std::move(name);
    t->size = size;
    t->is_signed = is_signed;
    t->target = std::move(target);
    return t;
}
}  // namespace

TypePtr integer(const std::string& name, uint64_t size, bool is_signed) {
    return make(CType::Kind::Integer, name, size, is_signed);
}
TypePtr int_() { static auto t = integer("int", 4, true); return t; }
TypePtr unsigned_int() { static auto t = integer("unsigned int", 4, false); return t; }
TypePtr long_() { static auto t = integer("long", 8, true); return t; }
TypePtr unsigned_long() { static auto t = integer("unsigned long", 8, false); return t; }
TypePtr char_() { static auto t = make(CType::Kind::Char, "char", 1, true); return t; }
TypePtr void_() { static auto t = make(CType::Kind::Void, "void", 1, false); return t; }
TypePtr unknown() { static auto t = make(CType::Kind::Unknown, "<unknown>", 0, false); return t; }
TypePtr eflags() { static auto t = make(CType::Kind::Flags, "i386_eflags", 4, false); return t; }

TypePtr pointer_to(TypePtr target) {
    const std::string& n = target->name;
    std::string name = !n.empty() && n.back() == '*' ? n + "*" : n + " *";
    if (size_t dims = n.find(" ["); target->kind == CType::Kind::Array && dims != std::string::npos)
        name = n.substr(0, dims) + " (*)" + n.substr(dims + 1);
    return make(CType::Kind::Pointer, name, 8, false, std::move(target));
}
TypePtr array_of(TypePtr element, uint64_t count) {
    const std::string& n = element->name;
    std::string dim = "[" + std::to_string(count) + "]";
    size_t inner = n.find(" [");
    std::string name = element->kind == CType::Kind::Array && inner != std::string::npos
                           ? n.substr(0, inner + 1) + dim + n.substr(inner + 1)
                           : n + " " + dim;
    auto t = std::make_shared<CType>();
    t->kind = CType::Kind::Array;
    t->name = name;
    t->size = element->size * count;
    t->target = std::move(element);
    t->count = count;
    return t;
}
TypePtr code_pointer() {
    static auto t = make(CType::Kind::Pointer, "void (*)()", 8, false,
                         make(CType::Kind::Code, "void ()", 1, false));
    return t;
}
TypePtr data_pointer() { static auto t = pointer_to(void_()); return t; }

std::optional<TypePtr> builtin(const std::string& spelled) {
    // gdb accepts the base words in any order ("long unsigned int"): normalise to a key.
    std::string name = spelled;
    int stars = 0;
    while (!name.empty() && (name.back() == '*' || name.back() == ' ')) {
        if (name.back() == '*') ++stars;
        name.pop_back();
    }
    std::map<std::string, int> words;
    std::string word;
    for (size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == ' ') {
            if (!word.empty() && word != "const" && word != "volatile") ++words[word];
            word.clear();
        } else {
            word += name[i];
        }
    }
    bool is_unsigned = words.erase("unsigned") > 0;
    bool is_signed_kw = words.erase("signed") > 0;
    int longs = words.count("long") ? words["long"] : 0;
    words.erase("long");
    bool has_int = words.erase("int") > 0;
    TypePtr base;
    if (words.empty() && longs > 0) {
        base = integer(std::string(is_unsigned ? "unsigned " : "") + (longs > 1 ? "long long" : "long"), 8, !is_unsigned);
    } else if (words.size() == 1 && words.count("short") && !longs) {
        base = integer(is_unsigned ? "unsigned short" : "short", 2, !is_unsigned);
    } else if (words.size() == 1 && words.count("char") && !longs && !has_int) {
        base = make(CType::Kind::Char, is_unsigned ? "unsigned char" : is_signed_kw ? "signed char" : "char",
                    1, !is_unsigned);
    } else if (words.empty() && (has_int || is_unsigned || is_signed_kw)) {
        base = is_unsigned ? unsigned_int() : int_();
    } else if (words.size() == 1 && !longs && !has_int && !is_unsigned && !is_signed_kw) {
        static const std::map<std::string, std::pair<uint64_t, bool>> fixed = {
            {"int8_t", {1, true}},    {"uint8_t", {1, false}},   {"int16_t", {2, true}},
            {"uint16_t", {2, false}}, {"int32_t", {4, true}},    {"uint32_t", {4, false}},
            {"int64_t", {8, true}},   {"uint64_t", {8, false}},  {"size_t", {8, false}},
            {"ssize_t", {8, true}},   {"uintptr_t", {8, false}}, {"intptr_t", {8, true}},
            {"ptrdiff_t", {8, true}}, {"pid_t", {4, true}},      {"off_t", {8, true}}};
        const std::string& only = words.begin()->first;
        if (only == "void") base = void_();
        else if (only == "_Bool" || only == "bool") base = make(CType::Kind::Bool, only, 1, false);
        else if (only == "float") base = make(CType::Kind::Float, "float", 4, true);
        else if (only == "double") base = make(CType::Kind::Float, "double", 8, true);
        else if (auto it = fixed.find(only); it != fixed.end())
            base = integer(only, it->second.first, it->second.second);
    }
    if (!base) return std::nullopt;
    for (int i = 0; i < stars; ++i) base = pointer_to(base);
    return base;
}

}  // namespace types

uint64_t normalize(const CType& type, uint64_t bits) {
    if (type.size >= 8 || type.size == 0) return bits;
    uint64_t mask = (uint64_t{1} << (type.size * 8)) - 1;
    bits &= mask;
    if (type.is_signed && (bits >> (type.size * 8 - 1)) & 1) bits |= ~mask;
    return bits;
}

int64_t Value::as_signed() const { return static_cast<int64_t>(normalize(*type, bits)); }

Value make_value(TypePtr type, uint64_t bits) {
    Value v;
    v.bits = normalize(*type, bits);
    v.type = std::move(type);
    return v;
}

std::string char_literal(unsigned char c) {
    static const std::map<unsigned char, const char*> named = {
        {'\a', "\\a"}, {'\b', "\\b"}, {'\f', "\\f"}, {'\n', "\\n"}, {'\r', "\\r"},
        {'\t', "\\t"}, {'\v', "\\v"}, {'\\', "\\\\"}, {'\'', "\\'"}};
    if (auto it = named.find(c); it != named.end()) return std::string("'") + it->second + "'";
    if (std::isprint(c)) return std::string("'") + static_cast<char>(c) + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "'\\%03o'", c);
    return buf;
}

std::string string_literal(const std::string& s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (size_t n = utf8_length(s, i)) {
            out += s.substr(i, n);
            i += n - 1;
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\'') {
            out += '\'';
        } else {
            std::string lit = char_literal(c);
            out += lit.substr(1, lit.size() - 2);
        }
    }
    return out + "\"";
}

std::string symbol_suffix(uint64_t address, const PrintContext& ctx) {
    if (!ctx.symbolic) return "";
    auto sym = ctx.symbolic(address);
    return sym ? " <" + *sym + ">" : "";
}

namespace {

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// gdb's flag types: i386_eflags and i386_mxcsr (one-bit fields only, as gdb's XML defines them).
std::string flags_text(const CType& type, uint64_t bits) {
    static const std::vector<std::pair<int, const char*>> eflags = {
        {0, "CF"}, {2, "PF"}, {4, "AF"}, {6, "ZF"}, {7, "SF"}, {8, "TF"}, {9, "IF"}, {10, "DF"},
        {11, "OF"}, {14, "NT"}, {16, "RF"}, {17, "VM"}, {18, "AC"}, {19, "VIF"}, {20, "VIP"}, {21, "ID"}};
    static const std::vector<std::pair<int, const char*>> mxcsr = {
        {0, "IE"}, {1, "DE"}, {2, "ZE"}, {3, "OE"}, {4, "UE"}, {5, "PE"}, {6, "DAZ"}, {7, "IM"},
        {8, "DM"}, {9, "ZM"}, {10, "OM"}, {11, "UM"}, {12, "PM"}, {15, "FZ"}};
    std::string out = "[ ";
    for (auto [bit, name] : type.name == "i386_mxcsr" ? mxcsr : eflags)
        if ((bits >> bit) & 1) out += std::string(name) + " ";
    return out + "]";
}

std::string pointer_text(const Value& v, const PrintContext& ctx) {
    const CType& target = *v.type->target;
    if (target.kind == CType::Kind::Char) {
        std::string out = hex(v.bits) + symbol_suffix(v.bits, ctx);
        if (v.bits == 0 || !ctx.read_cstring) return out;
        auto s = ctx.read_cstring(v.bits);
        if (!s) return out + " <error: Cannot access memory at address " + hex(v.bits) + ">";
        return out + " " + string_literal(*s);
    }
    return "(" + v.type->name + ") " + hex(v.bits) + symbol_suffix(v.bits, ctx);
}

std::string binary(uint64_t v) {
    if (v == 0) return "0";
    std::string out;
    for (; v; v >>= 1) out.insert(out.begin(), static_cast<char>('0' + (v & 1)));
    return out;
}

uint64_t unsigned_bits(const Value& v) {
    uint64_t size = v.type->size ? v.type->size : 8;
    return size >= 8 ? v.bits : v.bits & ((uint64_t{1} << (size * 8)) - 1);
}

}  // namespace

Expected<std::string> format_value(const Value& v, const PrintContext& ctx) {
    if (!v.text.empty()) return v.text;
    if (is_wide(v)) return format_wide(v, 0);
    auto kind = v.type->kind;
    bool dwarf = kind == CType::Kind::Struct || kind == CType::Kind::Float || kind == CType::Kind::Array ||
                 v.type->is_enum;
    if (dwarf && v.address && ctx.typed_text)
        if (auto text = ctx.typed_text(v.type->name, *v.address)) return *text;
    switch (kind) {
        case CType::Kind::Array:
            return fail("printing an array of " + v.type->target->name + " needs its DWARF type; print its elements");
        case CType::Kind::Void: return std::string("void");
        case CType::Kind::Unknown:
            return fail("'" + v.symbol + "' has unknown type; cast it to its declared type");
        case CType::Kind::Struct:
            return fail("printing a " + v.type->name + " value needs field types; use lua target:value(addr, \"" +
                        v.type->name + "\") instead");
        case CType::Kind::Float:
            if (v.type->size == 2 || v.type->size == 4 || v.type->size == 8) return float_text(*v.type, v.bits);
            return fail("floating-point values are not supported by the command language");
        case CType::Kind::Code: return fail("printing a function body is not supported; use its address");
        case CType::Kind::Bool: return std::string(v.bits ? "true" : "false");
        case CType::Kind::Char:
            return std::to_string(v.as_signed()) + " " + char_literal(static_cast<unsigned char>(v.bits));
        case CType::Kind::Flags: return flags_text(*v.type, v.bits);
        case CType::Kind::Pointer: return pointer_text(v, ctx);
        case CType::Kind::Integer:
            return v.type->is_signed ? std::to_string(v.as_signed()) : std::to_string(unsigned_bits(v));
    }
    return std::string("?");
}

Expected<std::string> format_value(const Value& v, char format, const PrintContext& ctx) {
    if (is_wide(v)) return format_wide(v, format);
    // A register's float lane: /x and /z are its bits, as gdb prints them.
    bool float_bits = v.type->kind == CType::Kind::Float && !v.address && (format == 'x' || format == 'z');
    if (!v.type->is_scalar() && !float_bits) {
        if (v.is_void()) return std::string("void");
        return format_value(v, ctx);
    }
    uint64_t u = unsigned_bits(v);
    uint64_t size = v.type->size ? v.type->size : 8;
    char buf[64];
    switch (format) {
        case 'x': return hex(u);
        case 'z':
            std::snprintf(buf, sizeof buf, "0x%0*llx", static_cast<int>(size * 2), static_cast<unsigned long long>(u));
            return std::string(buf);
        case 'd': return std::to_string(static_cast<int64_t>(normalize(*types::integer("", size, true), u)));
        case 'u': return std::to_string(u);
        case 'o':
            if (u == 0) return std::string("0");
            std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(u));
            return std::string(buf);
        case 't': return binary(u);
        case 'c': {
            auto c = make_value(types::char_(), u);
            return std::to_string(c.as_signed()) + " " + char_literal(static_cast<unsigned char>(u));
        }
        case 'a': return hex(u) + symbol_suffix(u, ctx);
        case 's': return format_value(v, ctx);
    }
    return fail(std::string("Undefined output format \"") + format + "\".");
}

}  // namespace snag::command
