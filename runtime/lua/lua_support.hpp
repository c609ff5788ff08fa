// Shared plumbing of the Lua bindings: reaching the Session, and running C++ safely under Lua's
// longjmp-based errors (Debian's liblua5.4 is C: lua_error must never cross a C++ destructor).
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "lua/sandbox.hpp"
#include "lua/session.hpp"

namespace snag {

// The bindings' window into Session internals.
struct SessionAccess {
    static Session& of(lua_State* L);
    static void attach(lua_State* L, Session* session);
    static std::vector<std::ostream*>& outputs(Session& s) { return s.outputs_; }
    static LuaHeap* heap(Session& s) { return s.heap_; }
    static const SessionOptions& options(Session& s) { return s.options_; }
    static std::unique_ptr<PythonCache>& python(Session& s) { return s.python_; }
    // Live control replaces both after a shared library load (runtime/lua/lua_control.cpp).
    static std::unique_ptr<Symbolizer>& symbolizer(Session& s) { return s.symbols_; }
    static std::unique_ptr<Unwinder>& unwinder(Session& s) { return s.unwinder_; }
};

namespace lua_detail {
// Copies the failure text into a fixed buffer, so nothing with a destructor outlives the C++ scope.
inline void copy_message(char* buffer, size_t size, std::string_view text) {
    size_t n = text.size() < size - 1 ? text.size() : size - 1;
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
}

template <class F>
int run_guarded(F& body, char* message, size_t size) noexcept {
    try {
        Expected<int> pushed = body();
        if (pushed) return *pushed;
        copy_message(message, size, pushed.error().message);
    } catch (const std::exception& e) {
        copy_message(message, size, e.what());
    } catch (...) {
        copy_message(message, size, "unexpected C++ exception");
    }
    return -1;
}
}  // namespace lua_detail

// Runs body (returns Expected<int>: how many values it pushed) with every C++ object confined to
// run_guarded's frame; a failure is raised as a Lua error only after that frame is gone.
// Check Lua arguments (luaL_check*) before calling guard, never inside body.
template <class F>
int guard(lua_State* L, F body) {
    char message[1024];
    void* ud = nullptr;
    lua_getallocf(L, &ud);
    auto* heap = static_cast<LuaHeap*>(ud);
    heap->relaxed++;
    int pushed = lua_detail::run_guarded(body, message, sizeof message);
    heap->relaxed--;
    if (pushed < 0) return luaL_error(L, "%s", message);
    return pushed;
}

// Lua integers are signed 64-bit: addresses above 2^63 travel as negative numbers.
inline uint64_t check_address(lua_State* L, int index) {
    if (lua_isinteger(L, index)) return static_cast<uint64_t>(lua_tointeger(L, index));
    lua_Number n = luaL_checknumber(L, index);
    return static_cast<uint64_t>(static_cast<int64_t>(n));
}
inline void push_address(lua_State* L, uint64_t value) {
    lua_pushinteger(L, static_cast<lua_Integer>(value));
}

inline void push_string(lua_State* L, std::string_view s) { lua_pushlstring(L, s.data(), s.size()); }
inline void set_field(lua_State* L, const char* key, std::string_view value) {
    push_string(L, value);
    lua_setfield(L, -2, key);
}
inline void set_field(lua_State* L, const char* key, lua_Integer value) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
}
inline void set_address(lua_State* L, const char* key, uint64_t value) {
    push_address(L, value);
    lua_setfield(L, -2, key);
}
inline void set_bool(lua_State* L, const char* key, bool value) {
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}
inline void set_number(lua_State* L, const char* key, double value) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

// Raises unless the handle (a table with field _gen) is from the target's current generation.
void check_generation(lua_State* L, int index, const char* what);
void stamp_generation(lua_State* L, Session& session);  // sets _gen on the table at the top

// Each binding file installs its functions into the target metatable or the `snag` table.
void bind_target(lua_State* L, Session& session);   // lua_target.cpp: global `target`
void bind_threads(lua_State* L);                    // lua_thread.cpp
void bind_frames(lua_State* L);                     // lua_frame.cpp
void bind_modules(lua_State* L);                    // lua_module.cpp
void bind_types(lua_State* L);                      // lua_types.cpp
void bind_session(lua_State* L);                    // lua_session.cpp: `snag.*`, print, cmd
void bind_python(lua_State* L);                     // lua_python.cpp: target:python()
void bind_python_tasks(lua_State* L);               // lua_tasks.cpp: py:tasks() on the metatable on top
void bind_control(lua_State* L);                    // lua_control.cpp: snag.control (live control)
void push_thread(lua_State* L, Session& session, const Thread& thread);
void push_frame(lua_State* L, Session& session, int tid, size_t index);
// The registers table: general registers as numbers, xmmN/ymmN as byte strings, mxcsr.
void push_registers(lua_State* L, const Registers& regs, const std::optional<VectorRegisters>& vector);

}  // namespace snag
