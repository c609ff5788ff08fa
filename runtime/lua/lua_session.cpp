// The `snag` table, print/io.write into the session's output, and cmd(): Lua's view of the
// session (selection, convenience variables, running command lines).
#include <sstream>

#include "lua/lua_support.hpp"

namespace snag {

namespace {

const char kSessionKey = 0;  // its address keys the Session pointer in the registry

// Joins the arguments with `sep` using Lua's own tostring (metamethods may raise: no C++ here).
void concat_args(lua_State* L, const char* sep, bool newline) {
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; ++i) {
        if (i > 1) luaL_addstring(&b, sep);
        luaL_tolstring(L, i, nullptr);
        luaL_addvalue(&b);
    }
    if (newline) luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
}

int write_top(lua_State* L) {
    size_t len = 0;
    const char* text = lua_tolstring(L, -1, &len);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        s.output().write(text, static_cast<std::streamsize>(len));
        return 0;
    });
}

int l_print(lua_State* L) {
    concat_args(L, "\t", true);
    return write_top(L);
}

int l_write(lua_State* L) {
    // One string (ctx:printf's case, thousands of times in `thread apply all py-bt`): as is.
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) concat_args(L, "", false);
    return write_top(L);
}

// cmd("thread apply all bt") → the command's output as a string.
int l_cmd(lua_State* L) {
    const char* line = luaL_checkstring(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        std::ostringstream out;
        if (auto ran = s.run_line(line, out); !ran) return std::unexpected(ran.error());
        push_string(L, out.str());
        return 1;
    });
}

// snag.run(line): like cmd() but prints as it goes.
int l_run(lua_State* L) {
    const char* line = luaL_checkstring(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        if (auto ran = s.run_line(line, s.output()); !ran) return std::unexpected(ran.error());
        return 0;
    });
}

int l_selected_thread(lua_State* L) {
    lua_pushinteger(L, SessionAccess::of(L).selected_thread());
    return 1;
}

int l_selected_frame(lua_State* L) {
    lua_pushinteger(L, static_cast<lua_Integer>(SessionAccess::of(L).selected_frame()));
    return 1;
}

int l_select_thread(lua_State* L) {
    int tid = static_cast<int>(luaL_checkinteger(L, 1));
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        if (auto ok = s.select_thread(tid); !ok) return std::unexpected(ok.error());
        return 0;
    });
}

int l_select_frame(lua_State* L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        if (n < 0) return fail("No frame at level " + std::to_string(n) + ".");
        if (auto ok = s.select_frame(static_cast<size_t>(n)); !ok) return std::unexpected(ok.error());
        return 0;
    });
}

int l_convenience(lua_State* L) {
    const char* name = luaL_checkstring(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto v = s.convenience(name);
        if (!v) lua_pushnil(L);
        else if (auto* i = std::get_if<int64_t>(&*v)) lua_pushinteger(L, *i);
        else push_string(L, std::get<std::string>(*v));
        return 1;
    });
}

int l_set_convenience(lua_State* L) {
    const char* name = luaL_checkstring(L, 1);
    bool is_int = lua_isinteger(L, 2);
    lua_Integer i = is_int ? lua_tointeger(L, 2) : 0;
    size_t len = 0;
    const char* text = is_int ? nullptr : luaL_checklstring(L, 2, &len);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        if (is_int) s.set_convenience(name, int64_t{i});
        else s.set_convenience(name, std::string(text, len));
        return 0;
    });
}

// snag.register("rip") of the selected frame, or nil and the reason.
int l_register(lua_State* L) {
    const char* name = luaL_checkstring(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto v = s.register_value(name);
        if (v) {
            push_address(L, *v);
            return 1;
        }
        lua_pushnil(L);
        push_string(L, v.error().message);
        return 2;
    });
}

int l_symbolic(lua_State* L) {
    uint64_t addr = check_address(L, 1);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto text = s.symbolic_address(addr);
        if (text) push_string(L, *text);
        else lua_pushnil(L);
        return 1;
    });
}

// snag.symbol_names(prefix [, limit]) → sorted symbol names of the target's modules (completion).
int l_symbol_names(lua_State* L) {
    size_t len = 0;
    const char* prefix = luaL_checklstring(L, 1, &len);
    lua_Integer limit = luaL_optinteger(L, 2, 0);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto names = s.symbol_names(std::string_view(prefix, len), limit > 0 ? static_cast<size_t>(limit) : 0);
        lua_createtable(L, static_cast<int>(names.size()), 0);
        for (size_t i = 0; i < names.size(); ++i) {
            push_string(L, names[i]);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

int l_generation(lua_State* L) {
    lua_pushinteger(L, static_cast<lua_Integer>(SessionAccess::of(L).generation()));
    return 1;
}

const luaL_Reg kSnagFunctions[] = {
    {"run", l_run},
    {"selected_thread", l_selected_thread},
    {"selected_frame", l_selected_frame},
    {"select_thread", l_select_thread},
    {"select_frame", l_select_frame},
    {"convenience", l_convenience},
    {"set_convenience", l_set_convenience},
    {"register", l_register},
    {"symbolic", l_symbolic},
    {"generation", l_generation},
    {"symbol_names", l_symbol_names},
    {nullptr, nullptr},
};

}  // namespace

Session& SessionAccess::of(lua_State* L) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kSessionKey);
    auto* s = static_cast<Session*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    return *s;
}

void SessionAccess::attach(lua_State* L, Session* session) {
    lua_pushlightuserdata(L, session);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kSessionKey);
}

void stamp_generation(lua_State* L, Session& session) {
    lua_pushinteger(L, static_cast<lua_Integer>(session.generation()));
    lua_setfield(L, -2, "_gen");
}

void check_generation(lua_State* L, int index, const char* what) {
    lua_getfield(L, index, "_gen");
    lua_Integer gen = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (static_cast<uint64_t>(gen) != SessionAccess::of(L).generation())
        luaL_error(L, "this %s handle is stale: the target ran since it was taken; "
                      "get it again (target:threads(), th:stack())", what);
}

void bind_session(lua_State* L) {
    lua_newtable(L);
    luaL_setfuncs(L, kSnagFunctions, 0);
    lua_setglobal(L, "snag");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, l_cmd);
    lua_setglobal(L, "cmd");
    lua_getglobal(L, "io");
    lua_pushcfunction(L, l_write);
    lua_setfield(L, -2, "write");
    lua_pop(L, 1);
}

}  // namespace snag
