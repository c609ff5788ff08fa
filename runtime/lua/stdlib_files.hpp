// The Lua stdlib compiled into the binary (generated at build time by embed_stdlib.cmake), so a
// snag binary never runs with another version's stdlib. $SNAG_STDLIB overrides it for development.
#pragma once

#include <cstddef>

#include "base/error.hpp"

namespace snag {

struct EmbeddedFile {
    const char* path;  // relative to stdlib/: "snag/command.lua", "commands/stack.lua"
    const char* text;
};

extern const EmbeddedFile kStdlibFiles[];
extern const size_t kStdlibFileCount;

}  // namespace snag

struct lua_State;

namespace snag {

// Registers the embedded snag.* modules in package.preload, requires snag.command, then runs
// every commands/*.lua in name order (their source shows as "stdlib/commands/x.lua").
Expected<void> load_embedded_stdlib(lua_State* L);

}  // namespace snag
