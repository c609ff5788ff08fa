// Loading the stdlib compiled into the binary (see stdlib_files.hpp).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "lua/lua_support.hpp"
#include "lua/sandbox.hpp"
#include "lua/stdlib_files.hpp"

namespace snag {

namespace {

// "snag/format.lua" → "snag.format"
std::string module_name(std::string_view path) {
    std::string name(path.substr(0, path.size() - 4));
    std::replace(name.begin(), name.end(), '/', '.');
    return name;
}

}  // namespace

Expected<void> load_embedded_stdlib(lua_State* L) {
    std::vector<const EmbeddedFile*> commands;
    lua_getglobal(L, "package");
    lua_pushstring(L, "");
    lua_setfield(L, -2, "path");
    lua_getfield(L, -1, "preload");
    for (size_t i = 0; i < kStdlibFileCount; ++i) {
        const EmbeddedFile& f = kStdlibFiles[i];
        std::string_view path = f.path;
        if (path.starts_with("commands/")) {
            commands.push_back(&f);
            continue;
        }
        if (auto ok = load_chunk(L, f.text, "@stdlib/" + std::string(path)); !ok) {
            lua_pop(L, 2);
            return fail("stdlib: " + ok.error().message);
        }
        lua_setfield(L, -2, module_name(path).c_str());
    }
    lua_pop(L, 2);
    lua_getglobal(L, "require");
    lua_pushstring(L, "snag.command");
    if (auto ok = protected_call(L, 1, 0); !ok) return fail("stdlib: " + ok.error().message);
    for (const EmbeddedFile* f : commands) {
        std::string chunkname = "stdlib/" + std::string(f->path);
        lua_getglobal(L, "snag");
        push_string(L, chunkname);
        lua_setfield(L, -2, "_loading");
        lua_pop(L, 1);
        auto loaded = load_chunk(L, f->text, "@" + chunkname);
        auto ran = loaded ? protected_call(L, 0, 0) : loaded;
        lua_getglobal(L, "snag");
        lua_pushnil(L);
        lua_setfield(L, -2, "_loading");
        lua_pop(L, 1);
        if (!ran) return fail("stdlib: " + ran.error().message);
    }
    return {};
}

}  // namespace snag
