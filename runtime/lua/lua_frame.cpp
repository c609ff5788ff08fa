// Native frames as Lua tables (gdb numbering: inlined calls are frames too): pc, sp, function,
// module, file:line; frame:registers() gives what the unwinder recovered.
#include "lua/lua_support.hpp"

namespace snag {

namespace {

struct FrameRef {
    int tid;
    lua_Integer level;  // gdb's frame number; checked against the stack by each method
};

// The frame table a method was called on (argument 1), from this session's generation.
FrameRef frame_self(lua_State* L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    check_generation(L, 1, "frame");
    lua_getfield(L, 1, "tid");
    lua_getfield(L, 1, "level");
    FrameRef ref{static_cast<int>(lua_tointeger(L, -2)), lua_tointeger(L, -1)};
    lua_pop(L, 2);
    return ref;
}

int l_frame_registers(lua_State* L) {
    auto [tid, level] = frame_self(L);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& frames = s.frames(tid);
        if (level < 0 || static_cast<size_t>(level) >= frames.size()) return fail("no such frame");
        const StackFrame& f = frames[static_cast<size_t>(level)];
        const Thread* t = s.target().thread(tid);
        // Outer frames: what unwinding recovered (rip, rsp, rbp, rbx, r12-r15); the rest keep
        // the innermost value, as gdb shows them (the CFI leaves them "same value").
        Registers regs = t && t->has_registers ? t->regs : Registers{};
        if (f.physical > 0) {
            const Registers& unwound = s.native_stack(tid).frames.at(f.physical).regs;
            regs.rip = unwound.rip;
            regs.rsp = unwound.rsp;
            regs.rbp = unwound.rbp;
            regs.rbx = unwound.rbx;
            regs.r12 = unwound.r12;
            regs.r13 = unwound.r13;
            regs.r14 = unwound.r14;
            regs.r15 = unwound.r15;
        }
        // Vector registers are never saved across calls: every frame shows the innermost ones.
        push_registers(L, regs, t ? t->vector : std::nullopt);
        set_bool(L, "unwound", f.physical > 0);
        return 1;
    });
}

// frame:locals() / frame:args() → {{name=, value=, shown= [, entry_value=, entry_shown=]}, ...} as
// gdb's `bt full` / `info args` print them (shown: as a frame line prints it, structs as "...") (locals: innermost block first); nil and "No symbol table info available." without
// DWARF.
int frame_variables(lua_State* L, FrameLocals::Kind kind) {
    auto [tid, level] = frame_self(L);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        if (level < 0) return fail("no such frame");
        auto locals = s.frame_locals(tid, static_cast<size_t>(level), kind);
        if (!locals) {
            lua_pushnil(L);
            lua_pushstring(L, "No symbol table info available.");
            return 2;
        }
        lua_createtable(L, static_cast<int>(locals->size()), 0);
        for (size_t i = 0; i < locals->size(); ++i) {
            lua_createtable(L, 0, 3);
            set_field(L, "name", (*locals)[i].name);
            set_field(L, "value", (*locals)[i].value);
            set_field(L, "shown", frame_line_value((*locals)[i].value));
            if ((*locals)[i].entry_value) {
                set_field(L, "entry_value", *(*locals)[i].entry_value);
                set_field(L, "entry_shown", frame_line_value(*(*locals)[i].entry_value));
            }
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

int l_frame_locals(lua_State* L) { return frame_variables(L, FrameLocals::Kind::Locals); }
int l_frame_args(lua_State* L) { return frame_variables(L, FrameLocals::Kind::Arguments); }

const luaL_Reg kFrameMethods[] = {
    {"registers", l_frame_registers},
    {"locals", l_frame_locals},
    {"args", l_frame_args},
    {nullptr, nullptr},
};

}  // namespace

void push_frame(lua_State* L, Session& session, int tid, size_t index) {
    const StackFrame& f = session.frames(tid).at(index);
    const NativeFrame& native = session.native_stack(tid).frames.at(f.physical);
    lua_createtable(L, 0, 14);
    set_field(L, "tid", tid);
    set_field(L, "level", static_cast<lua_Integer>(index));
    set_field(L, "physical", static_cast<lua_Integer>(f.physical));
    set_address(L, "pc", f.pc);
    set_address(L, "sp", f.sp);
    set_address(L, "cfa", native.cfa);
    if (!f.symbol.function.empty()) set_field(L, "function", f.symbol.function);
    set_field(L, "offset", static_cast<lua_Integer>(f.symbol.offset));
    if (f.symbol.module) set_field(L, "module", f.symbol.module->path);
    if (f.symbol.source) {
        set_field(L, "file", f.symbol.source->file);
        set_field(L, "line", f.symbol.source->line);
    }
    set_bool(L, "inlined", f.symbol.inlined);
    set_bool(L, "signal_frame", native.is_signal_frame);
    stamp_generation(L, session);
    luaL_setmetatable(L, "snag.Frame");
}

void bind_frames(lua_State* L) {
    luaL_newmetatable(L, "snag.Frame");
    luaL_setfuncs(L, kFrameMethods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

}  // namespace snag
