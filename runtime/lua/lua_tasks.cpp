// asyncio in Lua: py:tasks() → every task of the target's event loops (tasks.hpp), read once per
// stop: name, state, await chain, what it awaits and who awaits it; .loops and .cycles beside.
#include "lua/lua_support.hpp"
#include "lua/python_cache.hpp"

namespace snag {
namespace {

void push_addresses(lua_State* L, const std::vector<uint64_t>& addresses) {
    lua_createtable(L, static_cast<int>(addresses.size()), 0);
    for (size_t i = 0; i < addresses.size(); ++i) {
        push_address(L, addresses[i]);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
}

void push_task_frames(lua_State* L, const std::vector<python::PyFrame>& frames) {
    lua_createtable(L, static_cast<int>(frames.size()), 0);
    for (size_t i = 0; i < frames.size(); ++i) {
        lua_createtable(L, 0, 4);
        set_field(L, "function", frames[i].function);
        set_field(L, "file", frames[i].file);
        set_field(L, "line", frames[i].line);
        set_address(L, "address", frames[i].address);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
}

void push_task(lua_State* L, const python::AsyncTask& t, const python::AsyncLoop& loop, int tid) {
    lua_createtable(L, 0, 16);
    set_address(L, "address", t.address);
    set_field(L, "name", t.name);
    set_field(L, "type", t.type);
    set_field(L, "state", t.state);
    set_bool(L, "running", t.running);
    set_field(L, "kind", t.kind);
    set_field(L, "awaiting", t.awaiting);
    set_address(L, "loop", t.loop);
    set_address(L, "thread_id", loop.thread_id);
    if (tid) set_field(L, "tid", static_cast<lua_Integer>(tid));
    if (t.waiter) {
        lua_createtable(L, 0, 2);
        set_address(L, "address", t.waiter);
        set_field(L, "type", t.waiter_type);
        lua_setfield(L, -2, "waiter");
    }
    push_task_frames(L, t.stack);
    lua_setfield(L, -2, "frames");
    push_addresses(L, t.awaits);
    lua_setfield(L, -2, "awaits");
    push_addresses(L, t.awaited_by);
    lua_setfield(L, -2, "awaited_by");
}

int tid_of(const python::PythonState& threads, uint64_t thread_id) {
    for (const auto& t : threads.threads)
        if (thread_id && t.thread_id == thread_id) return t.tid;
    return 0;
}

// py:tasks() → {task...; loops = {{address, thread_id, tid, count}}, cycles = {{address...}},
// warnings = {...}}; an empty list when asyncio is not imported.
int l_tasks(lua_State* L) {
    check_generation(L, 1, "python");
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        const auto& threads = python_state(s, **cache, false);
        auto& slot = (*cache)->tasks;
        if (!slot) slot = python::read_async_tasks(s.target(), *(*(*cache)->runtime), &threads, &s.symbols());
        const python::AsyncState& state = *slot;
        lua_createtable(L, static_cast<int>(state.tasks.size()), 3);
        lua_Integer n = 0;
        lua_createtable(L, static_cast<int>(state.loops.size()), 0);  // loops, set below
        for (size_t i = 0; i < state.loops.size(); ++i) {
            const auto& loop = state.loops[i];
            int tid = tid_of(threads, loop.thread_id);
            lua_createtable(L, 0, 4);
            set_address(L, "address", loop.address);
            set_address(L, "thread_id", loop.thread_id);
            if (tid) set_field(L, "tid", static_cast<lua_Integer>(tid));
            set_field(L, "count", static_cast<lua_Integer>(loop.tasks.size()));
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
            for (size_t index : loop.tasks) {
                push_task(L, state.tasks[index], loop, tid);
                lua_rawseti(L, -3, ++n);
            }
        }
        lua_setfield(L, -2, "loops");
        lua_createtable(L, static_cast<int>(state.cycles.size()), 0);
        for (size_t i = 0; i < state.cycles.size(); ++i) {
            push_addresses(L, state.cycles[i]);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        lua_setfield(L, -2, "cycles");
        lua_createtable(L, static_cast<int>(state.warnings.size()), 0);
        for (size_t i = 0; i < state.warnings.size(); ++i) {
            push_string(L, state.warnings[i]);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        lua_setfield(L, -2, "warnings");
        return 1;
    });
}

}  // namespace

void bind_python_tasks(lua_State* L) {
    lua_pushcfunction(L, l_tasks);
    lua_setfield(L, -2, "tasks");
}

}  // namespace snag
