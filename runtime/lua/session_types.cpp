// Type names to layouts: DWARF types from the Symbolizer, C base types built in (so `*(long *)$p`
// works without debug info), pointer types synthesized on demand.
#include <cctype>
#include <cstdlib>

#include "lua/session.hpp"
#include "symbols/dwarf_value_text.hpp"

namespace snag {

namespace {

struct BaseType {
    const char* name;
    uint64_t size;
    BaseEncoding encoding;
};

// x86_64 LP64 C types, spelled as gdb prints them.
const BaseType kBaseTypes[] = {
    {"char", 1, BaseEncoding::SignedChar},         {"signed char", 1, BaseEncoding::SignedChar},
    {"unsigned char", 1, BaseEncoding::UnsignedChar}, {"short", 2, BaseEncoding::Signed},
    {"unsigned short", 2, BaseEncoding::Unsigned}, {"int", 4, BaseEncoding::Signed},
    {"unsigned int", 4, BaseEncoding::Unsigned},   {"long", 8, BaseEncoding::Signed},
    {"unsigned long", 8, BaseEncoding::Unsigned},  {"long long", 8, BaseEncoding::Signed},
    {"unsigned long long", 8, BaseEncoding::Unsigned}, {"float", 4, BaseEncoding::Float},
    {"double", 8, BaseEncoding::Float},            {"long double", 16, BaseEncoding::Float},
    {"_Bool", 1, BaseEncoding::Bool},              {"bool", 1, BaseEncoding::Bool},
    {"int8_t", 1, BaseEncoding::Signed},           {"uint8_t", 1, BaseEncoding::Unsigned},
    {"int16_t", 2, BaseEncoding::Signed},          {"uint16_t", 2, BaseEncoding::Unsigned},
    {"int32_t", 4, BaseEncoding::Signed},          {"uint32_t", 4, BaseEncoding::Unsigned},
    {"int64_t", 8, BaseEncoding::Signed},          {"uint64_t", 8, BaseEncoding::Unsigned},
    {"size_t", 8, BaseEncoding::Unsigned},         {"ssize_t", 8, BaseEncoding::Signed},
    {"intptr_t", 8, BaseEncoding::Signed},         {"uintptr_t", 8, BaseEncoding::Unsigned},
    {"ptrdiff_t", 8, BaseEncoding::Signed},
};

// "unsigned   long int" → "unsigned long"; "signed int" → "int": one spelling per type.
std::string normalise(std::string_view name) {
    std::vector<std::string> words;
    std::string word;
    for (char c : name) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
        } else {
            word.push_back(c);
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    bool is_unsigned = false, is_signed = false, has_int = false;
    int longs = 0;
    std::vector<std::string> rest;
    for (auto& w : words) {
        if (w == "unsigned") is_unsigned = true;
        else if (w == "signed") is_signed = true;
        else if (w == "int") has_int = true;
        else if (w == "long") ++longs;
        else if (w == "const" || w == "volatile") continue;
        else rest.push_back(w);
    }
    std::string base;
    if (!rest.empty()) {
        for (auto& w : rest) base += (base.empty() ? "" : " ") + w;
        if (base == "char" && is_signed) base = "signed char";
        if (is_unsigned && (base == "char" || base == "short")) base = "unsigned " + base;
        if (longs == 1 && base == "double") base = "long double";
        return base;
    }
    base = longs == 0 ? "int" : longs == 1 ? "long" : "long long";
    (void)has_int;
    return is_unsigned ? "unsigned " + base : base;
}

ValueType::Kind kind_of(const TypeInfo& t) {
    switch (t.kind) {
    case TypeKind::Void: return ValueType::Kind::Void;
    case TypeKind::Pointer: return ValueType::Kind::Pointer;
    case TypeKind::Struct:
    case TypeKind::Class: return ValueType::Kind::Struct;
    case TypeKind::Union: return ValueType::Kind::Union;
    case TypeKind::Array: return ValueType::Kind::Array;
    case TypeKind::Enum: return ValueType::Kind::Enum;
    case TypeKind::Function: return ValueType::Kind::Function;
    case TypeKind::Typedef: return ValueType::Kind::Other;
    case TypeKind::Base: break;
    }
    switch (t.encoding) {
    case BaseEncoding::Signed: return ValueType::Kind::Signed;
    case BaseEncoding::Unsigned: return ValueType::Kind::Unsigned;
    case BaseEncoding::SignedChar:
    case BaseEncoding::UnsignedChar: return ValueType::Kind::Char;
    case BaseEncoding::Float: return ValueType::Kind::Float;
    case BaseEncoding::Bool: return ValueType::Kind::Bool;
    case BaseEncoding::None: break;
    }
    return ValueType::Kind::Other;
}

}  // namespace

const TypeInfo* Session::find_type(std::string_view spelled) {
    std::string name(spelled);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) name.erase(0, 1);
    if (name.empty()) return nullptr;
    for (const auto& t : synthesized_types_)
        if (t->name == name) return t.get();
    if (const TypeInfo* t = symbols_->find_type(name)) return t;
    auto synthesized = std::make_unique<TypeInfo>();
    if (name.back() == '*') {
        const TypeInfo* pointee = find_type(name.substr(0, name.size() - 1));
        std::string inner = name.substr(0, name.size() - 1);
        while (!inner.empty() && inner.back() == ' ') inner.pop_back();
        if (pointee == nullptr && normalise(inner) != "void") return nullptr;
        synthesized->kind = TypeKind::Pointer;
        synthesized->size = 8;
        synthesized->target = pointee;
        synthesized->name = (pointee ? pointee->name : std::string("void")) +
                            (inner.back() == '*' ? "*" : " *");
    } else {
        std::string canonical = normalise(name);
        if (canonical == "void") {
            synthesized->kind = TypeKind::Void;
        } else {
            const BaseType* base = nullptr;
            for (const auto& b : kBaseTypes)
                if (canonical == b.name) base = &b;
            if (base == nullptr) return nullptr;
            synthesized->kind = TypeKind::Base;
            synthesized->size = base->size;
            synthesized->encoding = base->encoding;
        }
        synthesized->name = canonical;
        if (canonical != name)  // remember both spellings
            for (const auto& t : synthesized_types_)
                if (t->name == canonical) return t.get();
    }
    synthesized_types_.push_back(std::move(synthesized));
    return synthesized_types_.back().get();
}

Expected<ValueType> Session::resolve_type(std::string_view name) {
    const TypeInfo* t = find_type(name);
    if (t == nullptr) return fail("No symbol \"" + std::string(name) + "\" in current context.");
    const TypeInfo& layout = t->strip_typedefs();
    ValueType v;
    v.name = t->name;
    v.kind = kind_of(layout);
    v.size = layout.size;
    if ((layout.kind == TypeKind::Pointer || layout.kind == TypeKind::Array))
        v.pointee = layout.target ? layout.target->name : "void";
    return v;
}

std::optional<std::string> Session::typed_text(std::string_view type, uint64_t address) {
    // "char [8]", "long int [2][3]": the element type's DWARF and the dimensions.
    std::vector<uint64_t> dims;
    size_t open = type.find('[');
    for (size_t i = open; i != std::string_view::npos && i < type.size(); i = type.find('[', i + 1))
        dims.push_back(std::strtoull(std::string(type.substr(i + 1)).c_str(), nullptr, 10));
    const TypeInfo* t = find_type(type.substr(0, open));
    Dwarf_Die die;
    if (!t || !t->dwarf || t->size == 0 || !dwarf_offdie(t->dwarf, t->die_offset, &die)) return std::nullopt;
    uint64_t size = t->size;
    for (uint64_t n : dims) size *= n;
    if (size == 0 || size > 65536) return std::nullopt;
    auto bytes = read_memory(address, size);
    if (!bytes) return std::nullopt;
    ValuePrinter printer{[this](uint64_t a, void* out, size_t n) { return target_->read(a, out, n) == n; },
                         [this](uint64_t a) { return symbolic_address(a); }};
    return dims.empty() ? printer.text(&die, *bytes) : printer.elements(&die, dims, *bytes);
}

}  // namespace snag
