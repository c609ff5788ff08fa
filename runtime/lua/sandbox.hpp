// Sandbox: what Lua code may do inside snag — no processes, no binary chunks, no debug library,
// files loaded only from known directories, written only where the user asked — and the budgets
// (instructions, memory) that stop runaway scripts with a message naming the script and line.
#pragma once

#include <lua.hpp>

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace snag {

// Allocation state shared with the custom lua_Alloc; one per lua_State.
struct LuaHeap {
    size_t used = 0;
    size_t budget = 0;             // 0 = unlimited; crossing it flags `over`, the hook then raises
    size_t slack = 64u << 20;      // hard limit above budget where allocation really fails
    bool over = false;
    int relaxed = 0;               // >0 while C++ bindings run: they must never see a Lua error
    uint64_t instruction_budget = 0;
    uint64_t instructions = 0;     // counted by the hook in steps of kHookStep
    int depth = 0;                 // nesting of protected_call (budgets reset at depth 0)
    // Files Lua may load (dofile, loadfile, require) and write (io.open "w"/"a").
    std::vector<std::string> readable_dirs;
    std::vector<std::string> writable_paths;
};

inline constexpr int kHookStep = 1000;

// A fresh state using heap for allocation, with the standard libraries opened and sandboxed.
lua_State* new_sandboxed_state(LuaHeap* heap);

// Set from the SIGINT handler; the count hook turns it into an "interrupted" error.
extern volatile std::sig_atomic_t g_lua_interrupt;

// Calls the function below nargs arguments on the stack with a traceback message handler and the
// budgets armed. On error the stack holds nothing of the call and the message has a traceback.
Expected<void> protected_call(lua_State* L, int nargs, int nresults);

// Loads a chunk (text only) named `chunkname` ("@file" or "=name"), leaving the function on top.
Expected<void> load_chunk(lua_State* L, std::string_view code, const std::string& chunkname);
Expected<void> load_file(lua_State* L, const std::string& path);

// Collects garbage and clears the over-budget flag after an error.
void recover_heap(lua_State* L);

}  // namespace snag
