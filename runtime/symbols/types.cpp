#include "symbols/types.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <deque>
#include <map>
#include <sstream>
#include <unordered_map>

namespace snag {

const char* to_string(TypeKind kind) {
    switch (kind) {
    case TypeKind::Void: return "void";
    case TypeKind::Base: return "base";
    case TypeKind::Pointer: return "pointer";
    case TypeKind::Struct: return "struct";
    case TypeKind::Union: return "union";
    case TypeKind::Class: return "class";
    case TypeKind::Array: return "array";
    case TypeKind::Typedef: return "typedef";
    case TypeKind::Enum: return "enum";
    case TypeKind::Function: return "function";
    }
    return "void";
}

std::optional<TypeMember> TypeInfo::member(std::string_view wanted) const {
    for (const auto& m : members) {
        if (m.name == wanted) return m;
        if (!m.name.empty() || !m.type) continue;
        const TypeInfo& inner = m.type->strip_typedefs();
        if (inner.kind != TypeKind::Struct && inner.kind != TypeKind::Union && inner.kind != TypeKind::Class)
            continue;
        if (auto found = inner.member(wanted)) {
            found->offset += m.offset;
            return found;
        }
    }
    return std::nullopt;
}

const TypeInfo& TypeInfo::strip_typedefs() const {
    const TypeInfo* t = this;
    for (int depth = 0; t->kind == TypeKind::Typedef && t->target && depth < 64; ++depth) t = t->target;
    return *t;
}

std::optional<uint64_t> member_offset(const TypeInfo& type, std::string_view path) {
    const TypeInfo* current = &type.strip_typedefs();
    uint64_t offset = 0;
    while (!path.empty()) {
        size_t dot = path.find('.');
        std::string_view part = path.substr(0, dot);
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
        auto m = current->member(part);
        if (!m || !m->type) return std::nullopt;
        offset += m->offset;
        current = &m->type->strip_typedefs();
    }
    return offset;
}

namespace {

std::vector<std::string> words_of(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
        } else {
            word.push_back(c);
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

// GCC's spelling of C integer types ("long unsigned int"), so "unsigned long" finds it too.
std::string canonical_base_name(std::string_view name) {
    auto words = words_of(name);
    int longs = 0, shorts = 0;
    bool is_unsigned = false, is_char = false, integral = !words.empty();
    for (const auto& w : words) {
        if (w == "long") ++longs;
        else if (w == "short") ++shorts;
        else if (w == "unsigned") is_unsigned = true;
        else if (w == "char") is_char = true;
        else if (w != "signed" && w != "int") integral = false;
    }
    bool is_signed = std::find(words.begin(), words.end(), "signed") != words.end();
    if (!integral) {
        std::string joined;
        for (const auto& w : words) joined += (joined.empty() ? "" : " ") + w;
        return joined;
    }
    if (is_char) return is_unsigned ? "unsigned char" : is_signed ? "signed char" : "char";
    std::string out = shorts ? "short " : longs == 1 ? "long " : longs >= 2 ? "long long " : "";
    return out + (is_unsigned ? "unsigned int" : "int");
}

std::string die_name(Dwarf_Die* die) {
    const char* name = dwarf_diename(die);
    return name ? name : "";
}

// Not integrated: a definition's DW_AT_specification leads to a declaration we must not inherit.
bool has_flag(Dwarf_Die* die, int attr_name) {
    Dwarf_Attribute attr;
    bool flag = false;
    return dwarf_attr(die, attr_name, &attr) && dwarf_formflag(&attr, &flag) == 0 && flag;
}

std::optional<uint64_t> udata(Dwarf_Die* die, int attr_name) {
    Dwarf_Attribute attr;
    Dwarf_Word value;
    if (!dwarf_attr_integrate(die, attr_name, &attr) || dwarf_formudata(&attr, &value) != 0) return std::nullopt;
    return value;
}

bool type_of(Dwarf_Die* die, Dwarf_Die* out) {
    Dwarf_Attribute attr;
    return dwarf_attr_integrate(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, out);
}

const char* tag_keyword(int tag) {
    switch (tag) {
    case DW_TAG_structure_type: return "struct";
    case DW_TAG_union_type: return "union";
    case DW_TAG_enumeration_type: return "enum";
    case DW_TAG_class_type: return "class";
    default: return nullptr;
    }
}

// Keys a top-level type DIE is found under; "" when the DIE names no type.
std::string index_key(Dwarf_Die* die, std::string_view scope) {
    int tag = dwarf_tag(die);
    std::string name = die_name(die);
    if (name.empty()) return {};
    std::string qualified = scope.empty() ? name : std::string(scope) + "::" + name;
    if (const char* keyword = tag_keyword(tag)) return std::string(keyword) + " " + qualified;
    if (tag == DW_TAG_typedef) return qualified;
    if (tag == DW_TAG_base_type) return canonical_base_name(name);
    return {};
}

struct ModuleTypes {
    bool indexed = false;
    Dwarf* dwarf = nullptr;
    std::unordered_map<std::string, Dwarf_Die> dies;  // a definition wins over a declaration
};

struct ParsedName {
    std::string module_filter;
    std::string key;
    int pointer_depth = 0;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

ParsedName parse_type_name(std::string_view text) {
    ParsedName parsed;
    if (auto bang = text.find('!'); bang != std::string_view::npos) {
        parsed.module_filter = std::string(trim(text.substr(0, bang)));
        text = text.substr(bang + 1);
    }
    text = trim(text);
    while (!text.empty() && text.back() == '*') {
        ++parsed.pointer_depth;
        text = trim(text.substr(0, text.size() - 1));
    }
    std::string name;
    for (const auto& w : words_of(text)) {
        if (w == "const" || w == "volatile" || w == "restrict") continue;
        name += (name.empty() ? "" : " ") + w;
    }
    parsed.key = name;
    auto words = words_of(name);
    bool tagged = !words.empty() && (words[0] == "struct" || words[0] == "union" || words[0] == "enum" ||
                                     words[0] == "class");
    if (!tagged) {
        std::string base = canonical_base_name(name);
        if (base != name) parsed.key = base;
    }
    return parsed;
}

bool module_matches(const std::string& path, std::string_view filter) {
    if (filter.empty()) return true;
    auto slash = path.rfind('/');
    std::string_view base = slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
    return base.starts_with(filter) || path == filter;
}

}  // namespace

struct TypeCatalog::Impl {
    std::vector<std::string> paths;
    DwarfOf dwarf_of;
    std::vector<ModuleTypes> modules;
    std::deque<TypeInfo> nodes;                             // stable addresses
    std::unordered_map<const void*, TypeInfo*> by_die;      // DIE address → node
    std::map<std::pair<const TypeInfo*, int>, TypeInfo*> pointers;  // synthetic "T *"
    std::unordered_map<std::string, const TypeInfo*> found; // query text → answer
    TypeInfo void_type = void_info();

    static TypeInfo void_info() {
        TypeInfo t;
        t.name = "void";
        return t;
    }

    ModuleTypes& types_of(size_t i) {
        ModuleTypes& mt = modules[i];
        if (mt.indexed) return mt;
        mt.indexed = true;
        mt.dwarf = dwarf_of(i);
        if (!mt.dwarf) return mt;
        index_units(mt, mt.dwarf);
        if (Dwarf* alt = dwarf_getalt(mt.dwarf)) index_units(mt, alt);
        return mt;
    }

    static void index_units(ModuleTypes& mt, Dwarf* dw) {
        Dwarf_CU* cu = nullptr;
        Dwarf_Half version;
        uint8_t unit_type;
        Dwarf_Die cudie, subdie;
        while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0)
            index_children(mt, &cudie, "");
    }

    static void index_children(ModuleTypes& mt, Dwarf_Die* parent, const std::string& scope) {
        Dwarf_Die child;
        if (dwarf_child(parent, &child) != 0) return;
        do {
            if (dwarf_tag(&child) == DW_TAG_namespace) {
                std::string name = die_name(&child);
                index_children(mt, &child, scope.empty() ? name : scope + "::" + name);
                continue;
            }
            std::string key = index_key(&child, scope);
            if (key.empty()) continue;
            auto [it, inserted] = mt.dies.try_emplace(key, child);
            if (!inserted && has_flag(&it->second, DW_AT_declaration) && !has_flag(&child, DW_AT_declaration))
                it->second = child;
        } while (dwarf_siblingof(&child, &child) == 0);
    }

    // The best DIE for any of keys: a definition from the first module that has one.
    std::optional<std::pair<Dwarf_Die, size_t>> lookup(const std::vector<std::string>& keys,
                                                       std::string_view filter) {
        std::optional<std::pair<Dwarf_Die, size_t>> declaration;
        for (size_t i = 0; i < modules.size(); ++i) {
            if (!module_matches(paths[i], filter)) continue;
            ModuleTypes& mt = types_of(i);
            for (const auto& key : keys) {
                auto it = mt.dies.find(key);
                if (it == mt.dies.end()) continue;
                if (!has_flag(&it->second, DW_AT_declaration)) return std::pair{it->second, i};
                if (!declaration) declaration = std::pair{it->second, i};
            }
        }
        return declaration;
    }

    const TypeInfo* find_key(const std::string& key, std::string_view filter) {
        std::vector<std::string> keys{key};
        // C has no bare tag names, but "ptype _ts" should still find "struct _ts".
        if (!key.contains(' '))
            for (const char* keyword : {"struct ", "union ", "enum ", "class "}) keys.push_back(keyword + key);
        auto hit = lookup(keys, filter);
        return hit ? build(&hit->first, hit->second) : nullptr;
    }

    const TypeInfo* pointer_to(const TypeInfo* target) {
        auto [it, inserted] = pointers.try_emplace({target, 0}, nullptr);
        if (!inserted) return it->second;
        TypeInfo& node = nodes.emplace_back();
        node.kind = TypeKind::Pointer;
        node.size = 8;
        node.target = target;
        node.name = pointer_name(target);
        node.module = target ? target->module : "";
        it->second = &node;
        return &node;
    }

    static std::string pointer_name(const TypeInfo* target) {
        if (!target) return "void *";
        if (target->kind == TypeKind::Function) return target->name + " (*)()";
        return target->name + (target->name.ends_with('*') ? "*" : " *");
    }

    const TypeInfo* build(Dwarf_Die* die, size_t module);
    void fill_aggregate(TypeInfo& node, Dwarf_Die* die, size_t module);
    void fill_array(TypeInfo& node, Dwarf_Die* die, size_t module);
};

const TypeInfo* TypeCatalog::Impl::build(Dwarf_Die* die, size_t module) {
    int tag = dwarf_tag(die);
    // Qualifiers do not change layout: const/volatile T is T.
    if (tag == DW_TAG_const_type || tag == DW_TAG_volatile_type || tag == DW_TAG_restrict_type ||
        tag == DW_TAG_atomic_type || tag == DW_TAG_immutable_type) {
        Dwarf_Die inner;
        return type_of(die, &inner) ? build(&inner, module) : &void_type;
    }
    if (auto it = by_die.find(die->addr); it != by_die.end()) return it->second;
    std::string name = die_name(die);
    if (const char* keyword = tag_keyword(tag); keyword && has_flag(die, DW_AT_declaration) && !name.empty()) {
        // A forward declaration: the layout lives in another unit (or module).
        auto hit = lookup({std::string(keyword) + " " + name}, "");
        if (hit && !has_flag(&hit->first, DW_AT_declaration)) {
            const TypeInfo* definition = build(&hit->first, hit->second);
            by_die[die->addr] = const_cast<TypeInfo*>(definition);
            return definition;
        }
    }
    TypeInfo& node = nodes.emplace_back();
    by_die[die->addr] = &node;
    node.module = paths[module];
    node.dwarf = dwarf_cu_getdwarf(die->cu);
    node.die_offset = dwarf_dieoffset(die);
    node.declaration = has_flag(die, DW_AT_declaration);
    int size = dwarf_bytesize(die);
    node.size = size > 0 ? static_cast<uint64_t>(size) : 0;
    Dwarf_Die inner;
    bool has_type = type_of(die, &inner);
    switch (tag) {
    case DW_TAG_base_type: {
        node.kind = TypeKind::Base;
        node.name = name;
        auto enc = udata(die, DW_AT_encoding).value_or(0);
        node.encoding = enc == DW_ATE_signed ? BaseEncoding::Signed
                        : enc == DW_ATE_unsigned ? BaseEncoding::Unsigned
                        : enc == DW_ATE_signed_char ? BaseEncoding::SignedChar
                        : enc == DW_ATE_unsigned_char ? BaseEncoding::UnsignedChar
                        : enc == DW_ATE_float ? BaseEncoding::Float
                        : enc == DW_ATE_boolean ? BaseEncoding::Bool
                                                : BaseEncoding::None;
        break;
    }
    case DW_TAG_pointer_type:
    case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type:
    case DW_TAG_ptr_to_member_type:
        node.kind = TypeKind::Pointer;
        if (!node.size) node.size = 8;
        node.name = "void *";  // provisional while the target is built (cycles)
        node.target = has_type ? build(&inner, module) : nullptr;
        node.name = pointer_name(node.target);
        break;
    case DW_TAG_typedef:
        node.kind = TypeKind::Typedef;
        node.name = name;
        node.target = has_type ? build(&inner, module) : nullptr;
        node.size = node.target ? node.target->size : 0;
        break;
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_class_type:
        node.kind = tag == DW_TAG_union_type ? TypeKind::Union
                    : tag == DW_TAG_class_type ? TypeKind::Class
                                               : TypeKind::Struct;
        node.name = std::string(tag_keyword(tag)) + " " + (name.empty() ? "{...}" : name);
        fill_aggregate(node, die, module);
        break;
    case DW_TAG_enumeration_type:
        node.kind = TypeKind::Enum;
        node.name = "enum " + (name.empty() ? std::string("{...}") : name);
        node.target = has_type ? build(&inner, module) : nullptr;
        node.encoding = node.target ? node.target->encoding : BaseEncoding::Unsigned;
        fill_aggregate(node, die, module);
        break;
    case DW_TAG_array_type:
        fill_array(node, die, module);
        break;
    case DW_TAG_subroutine_type:
        node.kind = TypeKind::Function;
        node.target = has_type ? build(&inner, module) : nullptr;
        node.name = (node.target ? node.target->name : std::string("void")) + " ()";
        break;
    default:
        node.kind = TypeKind::Void;
        node.name = name.empty() ? "void" : name;
        break;
    }
    return &node;
}

void TypeCatalog::Impl::fill_aggregate(TypeInfo& node, Dwarf_Die* die, size_t module) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0) return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_enumerator) {
            Dwarf_Attribute attr;
            Dwarf_Sword value = 0;
            if (dwarf_attr(&child, DW_AT_const_value, &attr)) dwarf_formsdata(&attr, &value);
            node.enumerators.emplace_back(die_name(&child), value);
            continue;
        }
        // Base classes become anonymous members, so their fields are found through member().
        if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
        if (tag == DW_TAG_member && (has_flag(&child, DW_AT_external) || has_flag(&child, DW_AT_declaration)))
            continue;  // C++ static data members take no room
        TypeMember m;
        if (tag == DW_TAG_member) m.name = die_name(&child);
        Dwarf_Die member_type;
        m.type = type_of(&child, &member_type) ? build(&member_type, module) : nullptr;
        m.offset = udata(&child, DW_AT_data_member_location).value_or(0);
        m.bit_size = static_cast<uint32_t>(udata(&child, DW_AT_bit_size).value_or(0));
        if (auto bits = udata(&child, DW_AT_data_bit_offset)) {
            m.offset = *bits / 8;
            m.bit_offset = static_cast<uint32_t>(*bits % 8);
        } else if (auto old_bits = udata(&child, DW_AT_bit_offset); old_bits && m.bit_size) {
            // DWARF 2/3 count from the most significant bit of the storage unit.
            int storage = dwarf_bytesize(&child);
            uint64_t unit_bits = (storage > 0 ? storage : (m.type ? m.type->size : 4)) * 8;
            m.bit_offset = static_cast<uint32_t>(unit_bits - *old_bits - m.bit_size);
        }
        node.members.push_back(std::move(m));
    } while (dwarf_siblingof(&child, &child) == 0);
}

void TypeCatalog::Impl::fill_array(TypeInfo& node, Dwarf_Die* die, size_t module) {
    node.kind = TypeKind::Array;
    Dwarf_Die element_die;
    const TypeInfo* element = type_of(die, &element_die) ? build(&element_die, module) : nullptr;
    std::vector<uint64_t> counts;
    Dwarf_Die child;
    if (dwarf_child(die, &child) == 0) {
        do {
            if (dwarf_tag(&child) != DW_TAG_subrange_type) continue;
            if (auto count = udata(&child, DW_AT_count)) counts.push_back(*count);
            else if (auto upper = udata(&child, DW_AT_upper_bound)) counts.push_back(*upper + 1);
            else counts.push_back(0);
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    if (counts.empty()) counts.push_back(0);
    // int a[2][3] is an array of 2 arrays of 3 ints: build the inner dimensions first.
    for (size_t i = counts.size(); i-- > 1;) {
        TypeInfo& dim = nodes.emplace_back();
        dim.kind = TypeKind::Array;
        dim.target = element;
        dim.count = counts[i];
        dim.size = element ? element->size * counts[i] : 0;
        dim.name = (element ? element->name : std::string("void")) + " [" + std::to_string(counts[i]) + "]";
        dim.module = paths[module];
        element = &dim;
    }
    node.target = element;
    node.count = counts[0];
    if (!node.size && element) node.size = element->size * counts[0];
    std::string element_name = element ? element->name : "void";
    node.name = element_name + " [" + (counts[0] ? std::to_string(counts[0]) : "") + "]";
}

TypeCatalog::TypeCatalog(std::vector<std::string> module_paths, DwarfOf dwarf_of)
    : impl_(std::make_unique<Impl>()) {
    impl_->modules.resize(module_paths.size());
    impl_->paths = std::move(module_paths);
    impl_->dwarf_of = std::move(dwarf_of);
}

TypeCatalog::~TypeCatalog() = default;

const TypeInfo* TypeCatalog::find(std::string_view text) {
    std::string query(text);
    if (auto it = impl_->found.find(query); it != impl_->found.end()) return it->second;
    ParsedName parsed = parse_type_name(text);
    const TypeInfo* type = parsed.key == "void" ? &impl_->void_type : impl_->find_key(parsed.key, parsed.module_filter);
    for (int i = 0; type && i < parsed.pointer_depth; ++i)
        type = impl_->pointer_to(type == &impl_->void_type ? nullptr : type);
    impl_->found[query] = type;
    return type;
}

namespace {

std::string declaration_of(const TypeMember& m) {
    std::string name = m.name.empty() ? "" : m.name;
    const TypeInfo* t = m.type;
    if (!t) return "void " + name;
    std::string suffix;
    while (t->kind == TypeKind::Array) {
        suffix += "[" + (t->count ? std::to_string(t->count) : std::string()) + "]";
        if (!t->target) break;
        t = t->target;
    }
    std::string type_name = t->name;
    if ((t->kind == TypeKind::Struct || t->kind == TypeKind::Union) && type_name.ends_with("{...}"))
        type_name = t->kind == TypeKind::Union ? "union {...}" : "struct {...}";
    std::string out = type_name + (type_name.ends_with('*') || name.empty() ? "" : " ") + name + suffix;
    if (m.bit_size) out += " : " + std::to_string(m.bit_size);
    return out;
}

}  // namespace

std::string ptype_text(const TypeInfo& type) {
    const TypeInfo& t = type.strip_typedefs();
    std::ostringstream out;
    if (t.kind == TypeKind::Enum) {
        out << t.name << " {";
        for (size_t i = 0; i < t.enumerators.size(); ++i)
            out << (i ? ", " : "") << t.enumerators[i].first << " = " << t.enumerators[i].second;
        out << "}";
    } else if (t.kind == TypeKind::Struct || t.kind == TypeKind::Union || t.kind == TypeKind::Class) {
        out << t.name << " {\n";
        if (t.declaration) out << "    <incomplete type>\n";
        for (const auto& m : t.members) out << "    " << declaration_of(m) << ";\n";
        out << "}";
    } else {
        out << t.name;
    }
    return out.str();
}

}  // namespace snag
