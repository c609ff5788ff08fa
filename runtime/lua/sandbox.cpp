#include "lua/sandbox.hpp"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace snag {

volatile std::sig_atomic_t g_lua_interrupt = 0;

namespace {

LuaHeap* heap_of(lua_State* L) {
    void* ud = nullptr;
    lua_getallocf(L, &ud);
    return static_cast<LuaHeap*>(ud);
}

// Crossing the budget only raises a flag: the count hook reports it with the script's line.
// Past budget + slack the allocation fails for real (one huge string.rep, say).
void* budget_alloc(void* ud, void* ptr, size_t old_size, size_t new_size) {
    auto* heap = static_cast<LuaHeap*>(ud);
    if (ptr == nullptr) old_size = 0;
    if (new_size == 0) {
        std::free(ptr);
        heap->used -= old_size;
        return nullptr;
    }
    size_t next = heap->used - old_size + new_size;
    if (heap->budget && new_size > old_size && heap->relaxed == 0) {
        if (next > heap->budget + heap->slack) return nullptr;
        if (next > heap->budget) heap->over = true;
    }
    void* p = std::realloc(ptr, new_size);
    if (p) heap->used = next;
    return p;
}

// Raises "file:line: message" for the Lua function running when the hook fired.
[[noreturn]] void raise_here(lua_State* L, const char* message) {
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, message);
    else
        lua_pushstring(L, message);
    lua_error(L);
    std::abort();  // lua_error does not return
}

void count_hook(lua_State* L, lua_Debug*) {
    LuaHeap* heap = heap_of(L);
    if (g_lua_interrupt) {
        g_lua_interrupt = 0;
        raise_here(L, "interrupted");
    }
    heap->instructions += kHookStep;
    if (heap->instruction_budget && heap->instructions > heap->instruction_budget) {
        char text[128];
        std::snprintf(text, sizeof text, "instruction budget of %llu exhausted (an endless loop?)",
                      static_cast<unsigned long long>(heap->instruction_budget));
        raise_here(L, text);
    }
    if (heap->over) {
        lua_gc(L, LUA_GCCOLLECT);
        heap->over = heap->budget && heap->used > heap->budget;
        if (heap->over) {
            char text[128];
            std::snprintf(text, sizeof text, "memory budget of %zu MB exhausted",
                          heap->budget >> 20);
            raise_here(L, text);
        }
    }
}

// lua.c's message handler: a string message gets a traceback from the error's level.
// A table error {message = "..."} is a user-facing failure (snag.fail): no traceback.
int message_handler(lua_State* L) {
    if (lua_type(L, 1) == LUA_TTABLE && lua_getfield(L, 1, "message") == LUA_TSTRING) return 1;
    lua_settop(L, 1);
    const char* msg = lua_tostring(L, 1);
    if (msg == nullptr) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

bool under(const char* path, const std::string& dir) {
    size_t n = dir.size();
    return std::strncmp(path, dir.c_str(), n) == 0 && (path[n] == '/' || path[n] == '\0' ||
                                                       (n > 0 && dir[n - 1] == '/'));
}

// Absolute, normalised form of path (the file need not exist yet) into out.
bool normalise(const char* path, char* out, size_t size) {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
    if (ec) return false;
    std::string s = p.string();
    if (s.size() + 1 > size) return false;
    std::memcpy(out, s.c_str(), s.size() + 1);
    return true;
}

// C++ work for the checks below happens in this frame; the Lua error is raised by the caller.
bool path_allowed(LuaHeap* heap, const char* path, bool write) noexcept {
    try {
        char full[PATH_MAX];
        if (!normalise(path, full, sizeof full)) return false;
        if (write) {
            for (const auto& p : heap->writable_paths) {
                char allowed[PATH_MAX];
                if (normalise(p.c_str(), allowed, sizeof allowed) && std::strcmp(full, allowed) == 0)
                    return true;
            }
            return false;
        }
        for (const auto& d : heap->readable_dirs) {
            char allowed[PATH_MAX];
            if (normalise(d.c_str(), allowed, sizeof allowed) && under(full, allowed)) return true;
        }
    } catch (...) {
    }
    return false;
}

// load(chunk, name, mode, env) with mode forced to text: binary chunks can break the VM.
// Calls the original load/loadfile (upvalue 1) with its mode argument (at mode_index, of
// nargs) forced to "t": binary chunks can forge bytecode that breaks out of the VM.
int call_text_only(lua_State* L, int nargs, int mode_index) {
    lua_settop(L, nargs);
    lua_pushstring(L, "t");
    lua_replace(L, mode_index);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
}

// load(chunk, chunkname, mode, env)
int safe_load(lua_State* L) { return call_text_only(L, 4, 3); }

// loadfile(filename, mode, env), from the allowed directories only
int safe_loadfile(lua_State* L) {
    const char* path = luaL_checkstring(L, 1);
    if (!path_allowed(heap_of(L), path, false))
        return luaL_error(L, "loadfile: %s is outside the stdlib, command and script directories", path);
    return call_text_only(L, 3, 2);
}

int safe_dofile(lua_State* L) {
    const char* path = luaL_checkstring(L, 1);
    if (!path_allowed(heap_of(L), path, false))
        return luaL_error(L, "dofile: %s is outside the stdlib, command and script directories", path);
    if (luaL_loadfilex(L, path, "t") != LUA_OK) return lua_error(L);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

// io.open: reading anywhere is fine; writing only to the report paths the user named.
int safe_open(lua_State* L) {
    const char* path = luaL_checkstring(L, 1);
    const char* mode = luaL_optstring(L, 2, "r");
    bool write = std::strpbrk(mode, "wa+") != nullptr;
    if (write && !path_allowed(heap_of(L), path, true))
        return luaL_error(L, "io.open: writing %s is not allowed (only output files named on the "
                             "command line may be written)", path);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void remove_field(lua_State* L, const char* table, const char* field) {
    if (lua_getglobal(L, table) == LUA_TTABLE) {
        lua_pushnil(L);
        lua_setfield(L, -2, field);
    }
    lua_pop(L, 1);
}

// Replaces table.field with a C closure over the original.
void wrap_field(lua_State* L, const char* table, const char* field, lua_CFunction fn) {
    if (table) lua_getglobal(L, table);
    else lua_pushglobaltable(L);
    lua_getfield(L, -1, field);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, field);
    lua_pop(L, 1);
}

void restrict_libraries(lua_State* L) {
    for (const char* f : {"execute", "exit", "remove", "rename", "tmpname", "setlocale"})
        remove_field(L, "os", f);
    for (const char* f : {"popen", "output", "tmpfile"}) remove_field(L, "io", f);
    lua_pushnil(L);
    lua_setglobal(L, "debug");
    remove_field(L, "package", "loadlib");
    // Only the preload and Lua-file searchers: no C modules.
    lua_getglobal(L, "package");
    lua_pushstring(L, "");
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "searchers");
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);
    lua_pushnil(L);
    lua_rawseti(L, -2, 3);
    lua_pop(L, 2);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushnil(L);
    lua_setfield(L, -2, "debug");
    lua_pop(L, 2);
    wrap_field(L, nullptr, "load", safe_load);
    wrap_field(L, nullptr, "loadfile", safe_loadfile);
    lua_pushcfunction(L, safe_dofile);
    lua_setglobal(L, "dofile");
    wrap_field(L, "io", "open", safe_open);
}

}  // namespace

lua_State* new_sandboxed_state(LuaHeap* heap) {
    lua_State* L = lua_newstate(budget_alloc, heap);
    if (L == nullptr) return nullptr;
    heap->relaxed++;
    luaL_openlibs(L);
    restrict_libraries(L);
    heap->relaxed--;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookStep);
    return L;
}

void recover_heap(lua_State* L) {
    LuaHeap* heap = heap_of(L);
    lua_gc(L, LUA_GCCOLLECT);
    heap->over = heap->budget && heap->used > heap->budget;
}

Expected<void> protected_call(lua_State* L, int nargs, int nresults) {
    LuaHeap* heap = heap_of(L);
    if (heap->depth == 0) heap->instructions = 0;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    // Nested calls from a binding re-arm the budgets for the Lua code they run.
    int saved_relaxed = heap->relaxed;
    heap->relaxed = 0;
    heap->depth++;
    int status = lua_pcall(L, nargs, nresults, base);
    heap->depth--;
    heap->relaxed = saved_relaxed;
    lua_remove(L, base);
    if (status == LUA_OK) return {};
    std::string message;
    if (status == LUA_ERRMEM) {
        char text[160];
        std::snprintf(text, sizeof text, "memory budget of %zu MB exhausted (one allocation too large)",
                      heap->budget >> 20);
        message = text;
    } else {
        const char* m = lua_tostring(L, -1);
        message = m ? m : "error object is not a string";
    }
    lua_pop(L, 1);
    recover_heap(L);
    return fail(message);
}

Expected<void> load_chunk(lua_State* L, std::string_view code, const std::string& chunkname) {
    LuaHeap* heap = heap_of(L);
    heap->relaxed++;
    int status = luaL_loadbufferx(L, code.data(), code.size(), chunkname.c_str(), "t");
    heap->relaxed--;
    if (status == LUA_OK) return {};
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load chunk";
    lua_pop(L, 1);
    return fail(message);
}

Expected<void> load_file(lua_State* L, const std::string& path) {
    LuaHeap* heap = heap_of(L);
    heap->relaxed++;
    int status = luaL_loadfilex(L, path.c_str(), "t");
    heap->relaxed--;
    if (status == LUA_OK) return {};
    std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load " + path;
    lua_pop(L, 1);
    return fail(message);
}

}  // namespace snag
