// Modules and symbols: target:modules(), target:module_at(addr), target:symbol(addr) and
// target:address(name) — both directions of symbolization.
#include "lua/lua_support.hpp"
#include "symbols/elf_sections.hpp"

namespace snag {

namespace {

Symbolizer& symbols_of(lua_State* L) { return SessionAccess::of(L).symbols(); }

void push_module(lua_State* L, const Module& m) {
    lua_createtable(L, 0, 11);
    set_field(L, "path", m.path);
    set_field(L, "local_path", m.local_path);
    set_address(L, "start", m.start);
    set_address(L, "stop", m.end);
    set_address(L, "bias", m.bias);
    set_field(L, "build_id", m.build_id);
    set_field(L, "recorded_build_id", m.recorded_build_id);
    set_field(L, "debug_file", m.debug_file);
    set_field(L, "debug_source", to_string(m.debug_source));
    set_bool(L, "matches", m.file_matches);
    set_bool(L, "found", !m.local_path.empty());
}

int l_modules(lua_State* L) {
    Symbolizer& sym = symbols_of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& mods = sym.modules();
        lua_createtable(L, static_cast<int>(mods.size()), 0);
        for (size_t i = 0; i < mods.size(); ++i) {
            push_module(L, mods[i]);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

int l_module_at(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    Symbolizer& sym = symbols_of(L);
    return guard(L, [&]() -> Expected<int> {
        const Module* m = sym.module_at(addr);
        if (m) push_module(L, *m);
        else lua_pushnil(L);
        return 1;
    });
}

// target:section(addr) → ".text", the ELF section of the module file holding addr, or nil.
int l_section(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    Symbolizer& sym = symbols_of(L);
    return guard(L, [&]() -> Expected<int> {
        const Module* m = sym.module_at(addr);
        auto name = m ? section_name_at(*m, addr) : std::nullopt;
        if (name) push_string(L, *name);
        else lua_pushnil(L);
        return 1;
    });
}

// target:symbol(addr [, call_site]) → {name, offset, module, file, line, inlined = {...}} or nil.
int l_symbol(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    bool call_site = lua_toboolean(L, 3);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto syms = s.symbols().symbolize(addr, call_site);
        if (syms.empty() || syms.back().function.empty()) {
            // Data symbols (globals) are not in the line tables: ask the ELF symbol tables.
            auto data = s.symbols().symbol_at(addr);
            if (!data) {
                lua_pushnil(L);
                return 1;
            }
            lua_createtable(L, 0, 4);
            set_field(L, "name", data->first);
            set_field(L, "offset", static_cast<lua_Integer>(data->second));
            if (const Module* m = s.symbols().module_at(addr)) set_field(L, "module", m->path);
            return 1;
        }
        const Symbol& outer = syms.back();
        lua_createtable(L, 0, 6);
        set_field(L, "name", outer.function);
        set_field(L, "offset", static_cast<lua_Integer>(outer.offset));
        if (outer.module) set_field(L, "module", outer.module->path);
        const Symbol& inner = syms.front();
        if (inner.source) {
            set_field(L, "file", inner.source->file);
            set_field(L, "line", inner.source->line);
        }
        // Innermost first: the inline chain at this address, outermost function last.
        lua_createtable(L, static_cast<int>(syms.size()), 0);
        for (size_t i = 0; i < syms.size(); ++i) {
            lua_createtable(L, 0, 3);
            set_field(L, "name", syms[i].function);
            if (syms[i].source) {
                set_field(L, "file", syms[i].source->file);
                set_field(L, "line", syms[i].source->line);
            }
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        lua_setfield(L, -2, "frames");
        return 1;
    });
}

// target:elf_symbol(addr) → name, offset of the ELF symbol containing addr (what gdb's
// `info symbol` names: "nanosleep", where DWARF says "__GI___nanosleep"), or nil.
int l_elf_symbol(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    Symbolizer& sym = symbols_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto found = sym.symbol_at(addr);
        if (!found) {
            lua_pushnil(L);
            return 1;
        }
        push_string(L, found->first);
        lua_pushinteger(L, static_cast<lua_Integer>(found->second));
        return 2;
    });
}

int l_address(lua_State* L) {
    size_t len = 0;
    const char* name = luaL_checklstring(L, 2, &len);
    Symbolizer& sym = symbols_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto a = sym.address_of(std::string_view(name, len));
        if (a) push_address(L, *a);
        else lua_pushnil(L);
        return 1;
    });
}

int l_addresses(lua_State* L) {
    size_t len = 0;
    const char* name = luaL_checklstring(L, 2, &len);
    Symbolizer& sym = symbols_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto all = sym.addresses_of(std::string_view(name, len));
        lua_createtable(L, static_cast<int>(all.size()), 0);
        for (size_t i = 0; i < all.size(); ++i) {
            push_address(L, all[i]);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

const luaL_Reg kModuleMethods[] = {
    {"modules", l_modules},
    {"module_at", l_module_at},
    {"section", l_section},
    {"symbol", l_symbol},
    {"elf_symbol", l_elf_symbol},
    {"address", l_address},
    {"addresses", l_addresses},
    {nullptr, nullptr},
};

}  // namespace

void bind_modules(lua_State* L) {
    luaL_getmetatable(L, "snag.Target");
    luaL_setfuncs(L, kModuleMethods, 0);
    lua_pop(L, 1);
}

}  // namespace snag
