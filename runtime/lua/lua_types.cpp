// DWARF types and typed values in Lua: target:type("struct X") describes a layout,
// target:value(addr, "T") reads memory through it (v.field, v[i], v:deref()), so Type Structure
// works on native structs. Values go stale when the target resumes.
#include <cinttypes>
#include <cstring>

#include "lua/lua_support.hpp"

namespace snag {

namespace {

struct ValueBox {
    uint64_t address;
    const TypeInfo* type;
    uint64_t generation;
};

const char* kValueMeta = "snag.Value";

void push_value(lua_State* L, Session& s, uint64_t address, const TypeInfo* type) {
    auto* box = static_cast<ValueBox*>(lua_newuserdatauv(L, sizeof(ValueBox), 0));
    *box = ValueBox{address, type, s.generation()};
    luaL_setmetatable(L, kValueMeta);
}

ValueBox* check_value(lua_State* L, int index) {
    auto* box = static_cast<ValueBox*>(luaL_checkudata(L, index, kValueMeta));
    if (box->generation != SessionAccess::of(L).generation())
        luaL_error(L, "this value handle is stale: the target ran since it was read; read it again");
    return box;
}

std::string unreadable(uint64_t addr) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "Cannot access memory at address 0x%" PRIx64, addr);
    return buf;
}

bool is_aggregate(const TypeInfo& t) {
    return t.kind == TypeKind::Struct || t.kind == TypeKind::Union || t.kind == TypeKind::Class ||
           t.kind == TypeKind::Array;
}

Expected<uint64_t> read_word(Target& target, uint64_t addr, uint64_t size) {
    uint64_t raw = 0;
    if (size > 8 || target.read(addr, &raw, size) != size) return fail(unreadable(addr));
    return raw;
}

// Pushes what a C expression of type t at addr evaluates to: numbers and booleans for scalars,
// a Value for pointers and aggregates (so they can be followed).
Expected<int> push_typed(lua_State* L, Session& s, uint64_t addr, const TypeInfo* type,
                         uint32_t bit_size = 0, uint32_t bit_offset = 0) {
    if (type == nullptr) return fail("value of unknown type");
    const TypeInfo& t = type->strip_typedefs();
    if (is_aggregate(t) || t.kind == TypeKind::Pointer || t.kind == TypeKind::Function) {
        push_value(L, s, addr, type);
        return 1;
    }
    if (t.kind == TypeKind::Void) return fail("attempt to read a void value");
    auto raw = read_word(s.target(), addr, t.size);
    if (!raw) return std::unexpected(raw.error());
    uint64_t v = *raw;
    if (bit_size) v = (v >> bit_offset) & ((bit_size >= 64) ? ~0ull : ((1ull << bit_size) - 1));
    unsigned bits = bit_size ? bit_size : static_cast<unsigned>(t.size * 8);
    switch (t.encoding) {
    case BaseEncoding::Float:
        if (t.size == 4) {
            float f;
            std::memcpy(&f, &v, 4);
            lua_pushnumber(L, f);
        } else if (t.size == 8) {
            double d;
            std::memcpy(&d, &v, 8);
            lua_pushnumber(L, d);
        } else {
            return fail("cannot read a " + t.name + " into a Lua number");
        }
        return 1;
    case BaseEncoding::Bool: lua_pushboolean(L, v != 0); return 1;
    case BaseEncoding::Signed:
    case BaseEncoding::SignedChar: {
        // Sign-extend from the value's width.
        if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~0ull << bits;
        lua_pushinteger(L, static_cast<lua_Integer>(v));
        return 1;
    }
    default:
        if (t.kind == TypeKind::Enum && t.encoding != BaseEncoding::Unsigned && bits < 64 &&
            (v >> (bits - 1)) & 1)
            v |= ~0ull << bits;
        lua_pushinteger(L, static_cast<lua_Integer>(v));
        return 1;
    }
}

// The element of a pointer or array at index i.
Expected<int> push_element(lua_State* L, Session& s, const ValueBox& box, lua_Integer i) {
    const TypeInfo& t = box.type->strip_typedefs();
    if (t.target == nullptr) return fail("cannot index a value of type " + box.type->name);
    uint64_t base = box.address;
    if (t.kind == TypeKind::Pointer) {
        auto p = read_word(s.target(), box.address, 8);
        if (!p) return std::unexpected(p.error());
        base = *p;
    } else if (t.kind != TypeKind::Array) {
        return fail("cannot index a value of type " + box.type->name);
    }
    uint64_t stride = t.target->strip_typedefs().size;
    return push_typed(L, s, base + static_cast<uint64_t>(i) * stride, t.target);
}

Expected<int> push_member(lua_State* L, Session& s, const ValueBox& box, std::string_view name) {
    const TypeInfo* t = &box.type->strip_typedefs();
    uint64_t base = box.address;
    // p.field on a struct pointer means p->field: Lua has no arrow.
    if (t->kind == TypeKind::Pointer && t->target) {
        auto p = read_word(s.target(), box.address, 8);
        if (!p) return std::unexpected(p.error());
        base = *p;
        t = &t->target->strip_typedefs();
    }
    auto m = t->member(name);
    if (!m) return fail(box.type->name + " has no member named " + std::string(name));
    return push_typed(L, s, base + m->offset, m->type, m->bit_size, m->bit_offset);
}


int l_index(lua_State* L) {
    ValueBox box = *check_value(L, 1);
    Session& s = SessionAccess::of(L);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_Integer i = luaL_checkinteger(L, 2);
        return guard(L, [&]() { return push_element(L, s, box, i); });
    }
    const char* key = luaL_checkstring(L, 2);
    // Methods win only when the struct has no member of that name (use v:member(name) then).
    luaL_getmetatable(L, kValueMeta);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, key);
    bool is_method = !lua_isnil(L, -1);
    const TypeInfo& t = box.type->strip_typedefs();
    const TypeInfo& layout = t.kind == TypeKind::Pointer && t.target ? t.target->strip_typedefs() : t;
    if (is_method && !layout.member(key)) return 1;
    lua_pop(L, 3);
    return guard(L, [&]() { return push_member(L, s, box, key); });
}

int l_member(lua_State* L) {
    ValueBox box = *check_value(L, 1);
    const char* key = luaL_checkstring(L, 2);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() { return push_member(L, s, box, key); });
}

int l_deref(lua_State* L) {
    ValueBox box = *check_value(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const TypeInfo& t = box.type->strip_typedefs();
        if (t.kind != TypeKind::Pointer) return fail("attempt to take contents of a non-pointer value");
        if (t.target == nullptr) return fail("attempt to take contents of a void pointer");
        auto p = read_word(s.target(), box.address, 8);
        if (!p) return std::unexpected(p.error());
        return push_typed(L, s, *p, t.target);
    });
}

int l_address(lua_State* L) {
    push_address(L, check_value(L, 1)->address);
    return 1;
}

// v:value(): the integer a pointer holds (or the scalar itself); aggregates have none.
int l_value(lua_State* L) {
    ValueBox box = *check_value(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const TypeInfo& t = box.type->strip_typedefs();
        if (t.kind == TypeKind::Pointer) {
            auto p = read_word(s.target(), box.address, 8);
            if (!p) return std::unexpected(p.error());
            push_address(L, *p);
            return 1;
        }
        if (is_aggregate(t)) return fail(box.type->name + " is not a scalar");
        return push_typed(L, s, box.address, box.type);
    });
}

int l_type_name(lua_State* L) {
    push_string(L, check_value(L, 1)->type->name);
    return 1;
}

// v:string([max]): the C string a char pointer points to, or a char array holds.
int l_string(lua_State* L) {
    ValueBox box = *check_value(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 4096);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const TypeInfo& t = box.type->strip_typedefs();
        uint64_t at = box.address;
        if (t.kind == TypeKind::Pointer) {
            auto p = read_word(s.target(), box.address, 8);
            if (!p) return std::unexpected(p.error());
            at = *p;
        } else if (t.kind == TypeKind::Array && t.count) {
            max = std::min<lua_Integer>(max, static_cast<lua_Integer>(t.count));
        } else if (t.kind != TypeKind::Array) {
            return fail(box.type->name + " is not a string");
        }
        auto text = s.target().read_cstring(at, static_cast<size_t>(std::max<lua_Integer>(max, 0)));
        if (!text) return fail(unreadable(at));
        push_string(L, *text);
        return 1;
    });
}

int l_tostring(lua_State* L) {
    ValueBox box = *check_value(L, 1);
    return guard(L, [&]() -> Expected<int> {
        char buf[64];
        std::snprintf(buf, sizeof buf, " at 0x%" PRIx64, box.address);
        push_string(L, "(" + box.type->name + ")" + buf);
        return 1;
    });
}

// Pushes the description table of a type: name, kind, size, members, target, count, enumerators.
void push_type(lua_State* L, const TypeInfo& type) {
    const TypeInfo& t = type.strip_typedefs();
    lua_createtable(L, 0, 8);
    set_field(L, "name", type.name);
    set_field(L, "kind", to_string(t.kind));
    set_field(L, "size", static_cast<lua_Integer>(t.size));
    if (t.target) set_field(L, "target", t.target->name);
    if (t.kind == TypeKind::Array) set_field(L, "count", static_cast<lua_Integer>(t.count));
    if (!type.module.empty()) set_field(L, "module", type.module);
    lua_createtable(L, static_cast<int>(t.members.size()), 0);
    for (size_t i = 0; i < t.members.size(); ++i) {
        const TypeMember& m = t.members[i];
        lua_createtable(L, 0, 5);
        set_field(L, "name", m.name);
        set_field(L, "offset", static_cast<lua_Integer>(m.offset));
        set_field(L, "type", m.type ? m.type->name : std::string("void"));
        set_field(L, "size", static_cast<lua_Integer>(m.type ? m.type->strip_typedefs().size : 0));
        if (m.bit_size) {
            set_field(L, "bit_size", static_cast<lua_Integer>(m.bit_size));
            set_field(L, "bit_offset", static_cast<lua_Integer>(m.bit_offset));
        }
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, -2, "members");
    lua_createtable(L, 0, static_cast<int>(t.enumerators.size()));
    for (const auto& [name, value] : t.enumerators) {
        lua_pushinteger(L, value);
        lua_setfield(L, -2, name.c_str());
    }
    lua_setfield(L, -2, "enumerators");
    set_field(L, "ptype", ptype_text(type));
}

// target:type("struct X") → layout table, or nil and why.
int l_type(lua_State* L) {
    const char* name = luaL_checkstring(L, 2);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const TypeInfo* t = s.find_type(name);
        if (t == nullptr) {
            lua_pushnil(L);
            push_string(L, std::string("no type named ") + name + " in the target's debug info");
            return 2;
        }
        push_type(L, *t);
        return 1;
    });
}

// target:value(addr, "T") → a Value of type T at addr (T may be "struct X", a typedef, "long *").
int l_typed_value(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    const char* name = luaL_checkstring(L, 3);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const TypeInfo* t = s.find_type(name);
        if (t == nullptr) return fail(std::string("no type named ") + name + " in the target's debug info");
        if (is_aggregate(t->strip_typedefs()) || t->strip_typedefs().kind == TypeKind::Pointer) {
            push_value(L, s, addr, t);
            return 1;
        }
        return push_typed(L, s, addr, t);
    });
}

const luaL_Reg kValueMethods[] = {
    {"member", l_member}, {"deref", l_deref},   {"address", l_address},
    {"value", l_value},   {"type", l_type_name}, {"string", l_string},
    {nullptr, nullptr},
};

const luaL_Reg kTypeMethods[] = {
    {"type", l_type},
    {"value", l_typed_value},
    {nullptr, nullptr},
};

}  // namespace

void bind_types(lua_State* L) {
    luaL_newmetatable(L, kValueMeta);
    lua_pushcfunction(L, l_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    luaL_setfuncs(L, kValueMethods, 0);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    luaL_getmetatable(L, "snag.Target");
    luaL_setfuncs(L, kTypeMethods, 0);
    lua_pop(L, 1);
}

}  // namespace snag
