// Threads as Lua tables: tid, name, state, CPU times, pending signal; methods for registers, the
// system call a thread is stopped in, and the native stack. Handles go stale when the target resumes.
#include "lua/lua_support.hpp"
#include "lua/registers.hpp"
#include "target/syscalls.hpp"

namespace snag {

namespace {

int thread_tid(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    check_generation(L, 1, "thread");
    lua_getfield(L, 1, "tid");
    int tid = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    return tid;
}

int l_registers(lua_State* L) {
    int tid = thread_tid(L);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const Thread* t = s.target().thread(tid);
        if (t == nullptr || !t->has_registers) return fail("thread " + std::to_string(tid) + " has no registers");
        push_registers(L, t->regs, t->vector);
        return 1;
    });
}

void push_syscall(lua_State* L, const Syscall& call, long number) {
    lua_createtable(L, 0, 4);
    set_field(L, "number", static_cast<lua_Integer>(number));
    set_field(L, "name", call.name);
    set_field(L, "kind", call.kind);
    set_bool(L, "fd_first", call.fd_first);
}

// th:syscall() → {number, name, kind, fd, returned} for a thread stopped in a system call (orig_rax),
// nil otherwise; fd is the first argument when it is the descriptor waited on; returned is true
// when the call had already finished (rax holds its result), so the thread waits for nothing.
int l_syscall(lua_State* L) {
    int tid = thread_tid(L);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const Thread* t = s.target().thread(tid);
        long number = t && t->has_registers ? static_cast<long>(t->regs.orig_rax) : -1;
        if (number < 0) {
            lua_pushnil(L);
            return 1;
        }
        const Syscall* call = syscall_by_number(number);
        std::string unnamed = "syscall " + std::to_string(number);
        push_syscall(L, call ? *call : Syscall{number, unnamed.c_str(), "other", false}, number);
        if (call && call->fd_first) set_field(L, "fd", static_cast<lua_Integer>(t->regs.rdi));
        set_bool(L, "returned", !syscall_interrupted(static_cast<long long>(t->regs.rax)));
        return 1;
    });
}

// snag.syscall(number | libc function name) → {number, name, kind, fd_first} or nil: the table
// behind th:syscall(), and what a wait function of a native stack ("__GI___poll") calls.
int l_syscall_lookup(lua_State* L) {
    const Syscall* call = lua_isinteger(L, 1) ? syscall_by_number(static_cast<long>(lua_tointeger(L, 1)))
                                              : syscall_by_function(luaL_checkstring(L, 1));
    if (call == nullptr) {
        lua_pushnil(L);
        return 1;
    }
    push_syscall(L, *call, call->number);
    return 1;
}

// th:stack([max]) → frames innermost first, gdb-numbered from 0; .error says why a walk stopped.
int l_stack(lua_State* L) {
    int tid = thread_tid(L);
    lua_Integer max = luaL_optinteger(L, 2, 0);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& frames = s.frames(tid);
        size_t n = frames.size();
        if (max > 0 && static_cast<size_t>(max) < n) n = static_cast<size_t>(max);
        lua_createtable(L, static_cast<int>(n), 2);
        for (size_t i = 0; i < n; ++i) {
            push_frame(L, s, tid, i);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        const NativeStack& native = s.native_stack(tid);
        if (!native.error.empty()) set_field(L, "error", native.error);
        set_bool(L, "truncated", native.truncated);
        set_field(L, "depth", static_cast<lua_Integer>(frames.size()));
        return 1;
    });
}

int l_frame(lua_State* L) {
    int tid = thread_tid(L);
    lua_Integer index = luaL_checkinteger(L, 2);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        if (index < 0 || static_cast<size_t>(index) >= s.frames(tid).size()) {
            lua_pushnil(L);
            return 1;
        }
        push_frame(L, s, tid, static_cast<size_t>(index));
        return 1;
    });
}

const luaL_Reg kThreadMethods[] = {
    {"registers", l_registers},
    {"syscall", l_syscall},
    {"stack", l_stack},
    {"frame", l_frame},
    {nullptr, nullptr},
};

}  // namespace

void push_registers(lua_State* L, const Registers& regs, const std::optional<VectorRegisters>& vector) {
    size_t count = 0;
    const RegisterName* names = gdb_registers(&count);
    lua_createtable(L, 0, static_cast<int>(count + 1 + (vector ? 33 : 0)));
    for (size_t i = 0; i < count; ++i) {
        push_address(L, *register_by_name(regs, names[i].name));
        lua_setfield(L, -2, names[i].name);
    }
    set_address(L, "orig_rax", regs.orig_rax);
    if (!vector) return;
    // xmmN/ymmN as little-endian byte strings (string.unpack("<i4i4i4i4", r.xmm0)), mxcsr a number.
    lua_pushinteger(L, vector->mxcsr);
    lua_setfield(L, -2, "mxcsr");
    for (const char* kind : {"xmm", "ymm"})
        for (int i = 0; i < 16; ++i) {
            std::string name = kind + std::to_string(i);
            if (auto bytes = vector_register(*vector, name)) set_field(L, name.c_str(), *bytes);
        }
}

void push_thread(lua_State* L, Session& session, const Thread& t) {
    lua_createtable(L, 0, 10);
    set_field(L, "tid", t.tid);
    set_field(L, "name", t.name);
    set_field(L, "state", std::string_view(&t.state, 1));
    if (t.has_cpu_times) {
        set_number(L, "cpu_user", t.user_seconds);
        set_number(L, "cpu_system", t.system_seconds);
        set_number(L, "cpu", t.user_seconds + t.system_seconds);
    }
    set_field(L, "signal", t.pending_signal);
    set_bool(L, "has_registers", t.has_registers);
    // glibc on x86_64: fs_base is the thread's pthread_t, which gdb shows as "Thread 0x...".
    if (t.has_registers && t.regs.fs_base) push_address(L, t.regs.fs_base), lua_setfield(L, -2, "pthread");
    stamp_generation(L, session);
    luaL_setmetatable(L, "snag.Thread");
}

void bind_threads(lua_State* L) {
    luaL_newmetatable(L, "snag.Thread");
    luaL_setfuncs(L, kThreadMethods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_getglobal(L, "snag");
    lua_pushcfunction(L, l_syscall_lookup);
    lua_setfield(L, -2, "syscall");
    lua_pop(L, 1);
}

}  // namespace snag
