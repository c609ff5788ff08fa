#include "command/vector_value.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace snag::command {

namespace {

struct Lane {
    const char* type;  // element type name
    CType::Kind kind;
    uint64_t size;     // bytes
    bool is_signed;
};

const Lane kBfloat16{"bfloat16", CType::Kind::Float, 2, false};
const Lane kHalf{"half", CType::Kind::Float, 2, false};
const Lane kFloat{"float", CType::Kind::Float, 4, false};
const Lane kDouble{"double", CType::Kind::Float, 8, false};
const Lane kInt8{"int8_t", CType::Kind::Integer, 1, true};
const Lane kInt16{"int16_t", CType::Kind::Integer, 2, true};
const Lane kInt32{"int32_t", CType::Kind::Integer, 4, true};
const Lane kInt64{"int64_t", CType::Kind::Integer, 8, true};
const Lane kInt128{"int128_t", CType::Kind::Integer, 16, true};
const Lane kUint128{"uint128_t", CType::Kind::Integer, 16, false};

// gdb's member order (i386_ymm_type / i386_xmm_type in gdb 13): name, lane; uint128 is no array.
struct Member {
    const char* name;
    const Lane* lane;
    bool array;
};
const std::vector<Member>& members(uint64_t size) {
    static const std::vector<Member> vec256 = {
        {"v16_bfloat16", &kBfloat16, true}, {"v16_half", &kHalf, true}, {"v8_float", &kFloat, true},
        {"v4_double", &kDouble, true},      {"v32_int8", &kInt8, true}, {"v16_int16", &kInt16, true},
        {"v8_int32", &kInt32, true},        {"v4_int64", &kInt64, true}, {"v2_int128", &kInt128, true}};
    static const std::vector<Member> vec128 = {
        {"v8_bfloat16", &kBfloat16, true}, {"v8_half", &kHalf, true}, {"v4_float", &kFloat, true},
        {"v2_double", &kDouble, true},     {"v16_int8", &kInt8, true}, {"v8_int16", &kInt16, true},
        {"v4_int32", &kInt32, true},       {"v2_int64", &kInt64, true}, {"uint128", &kUint128, false}};
    return size == 32 ? vec256 : vec128;
}

TypePtr lane_type(const Lane& lane) {
    auto t = std::make_shared<CType>();
    t->kind = lane.kind;
    t->name = lane.type;
    t->size = lane.size;
    t->is_signed = lane.is_signed;
    return t;
}

TypePtr array_type(const Member& m, uint64_t bytes) {
    auto t = std::make_shared<CType>();
    t->kind = CType::Kind::Struct;
    t->name = m.name;
    t->size = bytes;
    t->target = lane_type(*m.lane);
    return t;
}

TypePtr union_type(uint64_t size) {
    auto t = std::make_shared<CType>();
    t->kind = CType::Kind::Struct;
    t->name = size == 32 ? "union vec256" : "union vec128";
    t->size = size;
    return t;
}

bool is_union(const Value& v) { return v.type->kind == CType::Kind::Struct && !v.type->target; }
bool is_array(const Value& v) { return v.type->kind == CType::Kind::Struct && v.type->target; }

uint64_t bits_of(std::string_view bytes) {
    uint64_t v = 0;
    std::memcpy(&v, bytes.data(), std::min<size_t>(bytes.size(), sizeof v));
    return v;
}

std::string hex_text(std::string_view bytes, bool zero_pad) {
    std::string out = "0x";
    bool leading = !zero_pad;
    char buf[4];
    for (size_t i = bytes.size(); i-- > 0;) {
        auto byte = static_cast<unsigned char>(bytes[i]);
        if (leading && byte == 0 && i > 0) continue;
        std::snprintf(buf, sizeof buf, leading ? "%x" : "%02x", byte);
        out += buf;
        leading = false;
    }
    return out;
}

std::string int128_text(std::string_view bytes, bool is_signed) {
    unsigned __int128 u = 0;
    std::memcpy(&u, bytes.data(), 16);
    bool negative = is_signed && (u >> 127);
    if (negative) u = ~u + 1;
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
    } while (u != 0);
    return negative ? "-" + digits : digits;
}

// One lane (or a uint128 member) in the format.
std::string lane_text(const CType& type, std::string_view bytes, char format) {
    if (format == 'x' || format == 'z') return hex_text(bytes, format == 'z');
    if (type.kind == CType::Kind::Float) return float_text(type, bits_of(bytes));
    if (type.size == 16) return int128_text(bytes, type.is_signed);
    Value v = make_value(std::make_shared<CType>(type), bits_of(bytes));
    return type.is_signed ? std::to_string(v.as_signed()) : std::to_string(v.bits);
}

// {a, b, c <repeats 12 times>, d}: runs longer than gdb's repeat threshold (10) are folded.
std::string array_text(const CType& lane, std::string_view bytes, char format) {
    size_t n = bytes.size() / lane.size;
    std::string out = "{";
    for (size_t i = 0; i < n;) {
        std::string_view one = bytes.substr(i * lane.size, lane.size);
        size_t reps = 1;
        while (i + reps < n && bytes.substr((i + reps) * lane.size, lane.size) == one) ++reps;
        if (i > 0) out += ", ";
        if (reps > 10) {
            out += lane_text(lane, one, format) + " <repeats " + std::to_string(reps) + " times>";
            i += reps;
        } else {
            out += lane_text(lane, one, format);
            ++i;
        }
    }
    return out + "}";
}

struct FloatFormat {
    int mantissa_bits;  // stored
    int exponent_bits;
    int digits;         // gdb: ceil(1 + precision * log10(2))
};

FloatFormat float_format(const CType& type) {
    if (type.size == 8) return {52, 11, 17};
    if (type.size == 4) return {23, 8, 9};
    if (type.name == "bfloat16") return {7, 8, 4};
    return {10, 5, 5};
}

double to_double(const CType& type, uint64_t bits) {
    if (type.size == 8) {
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }
    if (type.size == 4 || type.name == "bfloat16") {
        auto b32 = static_cast<uint32_t>(type.size == 4 ? bits : bits << 16);
        float f;
        std::memcpy(&f, &b32, sizeof f);
        return f;
    }
    int exponent = static_cast<int>((bits >> 10) & 0x1f);
    double mantissa = static_cast<double>(bits & 0x3ff);
    double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    return (bits >> 15) & 1 ? -magnitude : magnitude;
}

}  // namespace

std::string float_text(const CType& type, uint64_t bits) {
    FloatFormat f = float_format(type);
    uint64_t mantissa = bits & ((uint64_t{1} << f.mantissa_bits) - 1);
    uint64_t exponent = (bits >> f.mantissa_bits) & ((uint64_t{1} << f.exponent_bits) - 1);
    bool negative = (bits >> (f.mantissa_bits + f.exponent_bits)) & 1;
    std::string sign = negative ? "-" : "";
    if (exponent == (uint64_t{1} << f.exponent_bits) - 1) {
        if (mantissa == 0) return sign + "inf";
        // gdb's floatformat_mantissa: the top (bits % 32) bits bare, then 32-bit words as %08x.
        int first = f.mantissa_bits % 32 ? f.mantissa_bits % 32 : 32;
        char buf[40];
        std::snprintf(buf, sizeof buf, "%llx",
                      static_cast<unsigned long long>(mantissa >> (f.mantissa_bits - first)));
        std::string text = buf;
        for (int left = f.mantissa_bits - first; left > 0; left -= 32) {
            std::snprintf(buf, sizeof buf, "%08llx",
                          static_cast<unsigned long long>((mantissa >> (left - 32)) & 0xffffffffu));
            text += buf;
        }
        return sign + "nan(0x" + text + ")";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", f.digits, to_double(type, bits));
    return buf;
}

std::optional<std::pair<size_t, size_t>> vector_register_slot(std::string_view name) {
    if (name == "mxcsr") return std::pair<size_t, size_t>{4, 0};
    if (name.size() < 4 || name.size() > 5 || name.substr(1, 2) != "mm" || (name[0] != 'x' && name[0] != 'y'))
        return std::nullopt;
    size_t index = 0;
    for (char c : name.substr(3)) {
        if (c < '0' || c > '9') return std::nullopt;
        index = index * 10 + static_cast<size_t>(c - '0');
    }
    if (index > 15 || (name.size() == 5 && name[3] == '0')) return std::nullopt;
    return std::pair<size_t, size_t>{name[0] == 'x' ? 16 : 32, index};
}

Expected<Value> vector_register_value(std::string bytes) {
    if (bytes.size() == 4) {
        auto t = std::make_shared<CType>();
        t->kind = CType::Kind::Flags;
        t->name = "i386_mxcsr";
        t->size = 4;
        t->is_signed = false;
        return make_value(t, bits_of(bytes));
    }
    if (bytes.size() != 16 && bytes.size() != 32) return fail("a vector register has 16 or 32 bytes");
    Value v;
    v.type = union_type(bytes.size());
    v.raw = std::move(bytes);
    return v;
}

bool is_wide(const Value& v) { return !v.raw.empty(); }

Expected<Value> vector_member(const Value& object, std::string_view name) {
    if (!is_union(object) || !is_wide(object)) return fail("not a vector register");
    for (const auto& m : members(object.type->size)) {
        if (name != m.name) continue;
        Value v;
        v.type = m.array ? array_type(m, object.type->size) : lane_type(*m.lane);
        v.raw = object.raw;
        return v;
    }
    return fail("There is no member named " + std::string(name) + ".");
}

Expected<Value> vector_element(const Value& array, int64_t index) {
    if (!is_array(array)) return fail("cannot subscript something of type `" + array.type->name + "'");
    const CType& lane = *array.type->target;
    uint64_t n = array.raw.size() / lane.size;
    if (index < 0 || static_cast<uint64_t>(index) >= n)
        return fail("no such vector element");
    std::string bytes = array.raw.substr(static_cast<size_t>(index) * lane.size, lane.size);
    if (lane.size == 16) {
        Value v;
        v.type = array.type->target;
        v.raw = std::move(bytes);
        return v;
    }
    return make_value(array.type->target, bits_of(bytes));
}

Expected<std::string> format_wide(const Value& v, char format) {
    if (format != 0 && format != 'x' && format != 'z')
        return fail(std::string("print/") + format + " of a vector register is not supported; use /x, /z or none.");
    if (is_array(v)) return array_text(*v.type->target, v.raw, format);
    if (!is_union(v)) return lane_text(*v.type, v.raw, format);
    std::string out = "{";
    for (const auto& m : members(v.type->size)) {
        if (out.size() > 1) out += ", ";
        out += std::string(m.name) + " = ";
        CType lane = *lane_type(*m.lane);
        out += m.array ? array_text(lane, v.raw, format) : lane_text(lane, v.raw, format);
    }
    return out + "}";
}

}  // namespace snag::command
