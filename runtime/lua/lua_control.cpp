// snag.control: live execution control for the Lua stdlib (stdlib/commands/control.lua) — one
// Controller per session, kept in the Lua registry so closing the session lets go of the process.
// Breakpoint conditions and actions call back into Lua (snag.control.on_condition / on_action).
#include <cstdlib>
#include <memory>

#include "control/controller.hpp"
#include "lua/lua_support.hpp"
#include "symbols/link_map.hpp"
#include "symbols/symbolizer.hpp"
#include "unwind/unwinder.hpp"
#include "target/process_target.hpp"

namespace snag {
namespace {

const char* kControllerKey = "snag.control.controller";
const char* kControllerMeta = "snag.Controller";

struct ControllerBox {
    control::Controller* controller = nullptr;
};

int l_controller_gc(lua_State* L) {
    auto* box = static_cast<ControllerBox*>(luaL_checkudata(L, 1, kControllerMeta));
    delete box->controller;  // detaches: breakpoints removed, threads resumed
    box->controller = nullptr;
    return 0;
}

// The session's controller, created at first use; nullptr (and a message) on cores or --no-stop.
control::Controller* controller(lua_State* L, std::string& why) {
    lua_getfield(L, LUA_REGISTRYINDEX, kControllerKey);
    if (auto* box = static_cast<ControllerBox*>(lua_touserdata(L, -1))) {
        lua_pop(L, 1);
        if (!box->controller->alive()) why = "The program is not being run.";
        return box->controller->alive() ? box->controller : nullptr;
    }
    lua_pop(L, 1);
    auto* process = dynamic_cast<ProcessTarget*>(&SessionAccess::of(L).target());
    if (!process) {
        why = "Live control needs a live process; this target is a core file.";
        return nullptr;
    }
    if (process->non_blocking() || !process->stopped()) {
        why = "Live control needs the process stopped (snag was started with --no-stop).";
        return nullptr;
    }
    auto* box = static_cast<ControllerBox*>(lua_newuserdatauv(L, sizeof(ControllerBox), 0));
    box->controller = nullptr;
    if (luaL_newmetatable(L, kControllerMeta)) {
        lua_pushcfunction(L, l_controller_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    box->controller = new control::Controller(*process);
    lua_setfield(L, LUA_REGISTRYINDEX, kControllerKey);
    return box->controller;
}

// Raises (with nothing C++ left alive) when there is no controller.
control::Controller& need(lua_State* L) {
    char message[256];
    control::Controller* c = nullptr;
    {
        std::string why;
        c = controller(L, why);
        lua_detail::copy_message(message, sizeof message, why);
    }
    if (!c) luaL_error(L, "%s", message);
    return *c;
}

// Calls snag.control[hook](id, tid) → boolean; a Lua error becomes the hit's error.
Expected<bool> call_hook(lua_State* L, const char* hook, int id, int tid) {
    SessionAccess::of(L).target_resumed();
    lua_getglobal(L, "snag");
    lua_getfield(L, -1, "control");
    lua_getfield(L, -1, hook);
    lua_remove(L, -2);
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return true;
    }
    lua_pushinteger(L, id);
    lua_pushinteger(L, tid);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error in breakpoint action";
        lua_pop(L, 1);
        return fail(message);
    }
    bool result = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return result;
}

void libraries_changed(lua_State* L, control::Controller& c);

control::HitHandler handler(lua_State* L, control::Controller& c) {
    return {[L](const control::Breakpoint& bp, int tid) { return call_hook(L, "on_condition", bp.id, tid); },
            [L](const control::Breakpoint& bp, int tid) { return call_hook(L, "on_action", bp.id, tid); },
            [L, &c] { libraries_changed(L, c); }};
}

const char* reason_name(control::StopReason reason) {
    switch (reason) {
        case control::StopReason::Breakpoint: return "breakpoint";
        case control::StopReason::Signal: return "signal";
        case control::StopReason::Step: return "step";
        case control::StopReason::Finished: return "finished";
        case control::StopReason::Interrupted: return "interrupted";
        case control::StopReason::Timeout: return "timeout";
        case control::StopReason::HitLimit: return "hit_limit";
        case control::StopReason::Exited: return "exited";
        case control::StopReason::ActionError: return "error";
    }
    return "unknown";
}

// Pushes the stop as a table; the caller raises when it returns -1 (message filled).
int push_stop(lua_State* L, const Expected<control::StopEvent>& stop, char* message, size_t size) {
    SessionAccess::of(L).target_resumed();
    if (!stop) {
        lua_detail::copy_message(message, size, stop.error().message);
        return -1;
    }
    lua_createtable(L, 0, 7);
    set_field(L, "reason", reason_name(stop->reason));
    set_field(L, "tid", stop->tid);
    set_field(L, "breakpoint", stop->breakpoint);
    set_field(L, "signal", stop->signal);
    if (stop->signal) set_field(L, "signal_name", control::SignalTable::name(stop->signal));
    set_field(L, "exit_code", stop->exit_code);
    set_field(L, "message", stop->message);
    if (stop->tid && stop->reason != control::StopReason::Exited && SessionAccess::of(L).target().thread(stop->tid))
        (void)SessionAccess::of(L).select_thread(stop->tid);
    return 1;
}

// FILE:LINE (the last colon followed by digits only; C++ "a::b" is a function).
std::optional<SourceLocation> source_line(const std::string& location) {
    auto colon = location.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == location.size() || location[colon - 1] == ':')
        return std::nullopt;
    if (location.find_first_not_of("0123456789", colon + 1) != std::string::npos) return std::nullopt;
    return SourceLocation{location.substr(0, colon), std::atoi(location.c_str() + colon + 1)};
}

// LOCATION → addresses: *ADDRESS, FILE:LINE, module!function, function (every match).
Expected<std::vector<uint64_t>> resolve(Session& s, const std::string& location) {
    if (!location.empty() && location[0] == '*') {
        std::string expr = location.substr(1);
        char* end = nullptr;
        uint64_t value = std::strtoull(expr.c_str(), &end, 0);
        if (end && *end == '\0' && !expr.empty()) return std::vector<uint64_t>{value};
        auto address = s.symbol_address(expr);
        if (!address) return std::unexpected(address.error());
        return std::vector<uint64_t>{*address};
    }
    if (auto line = source_line(location)) {
        auto addresses = line_addresses(s.symbols().modules(), line->file, line->line);
        if (addresses.empty()) return fail("No line " + std::to_string(line->line) + " in file \"" + line->file + "\".");
        return addresses;
    }
    return s.symbols().addresses_of(location);  // none: pending until a library defines it
}

// Symbols and unwinder built anew from the process's current mappings. The old ones stay alive
// (types and modules handed out earlier point into them) until snag exits: this runs only while
// a breakpoint is pending, so their number stays small.
void reload_symbols(Session& s) {
    static std::vector<std::unique_ptr<Symbolizer>> retired_symbols;
    static std::vector<std::unique_ptr<Unwinder>> retired_unwinders;
    auto symbols = make_symbolizer(s.target());
    if (!symbols) return;
    retired_unwinders.push_back(std::move(SessionAccess::unwinder(s)));
    retired_symbols.push_back(std::move(SessionAccess::symbolizer(s)));
    SessionAccess::symbolizer(s) = std::move(*symbols);
    SessionAccess::unwinder(s) = make_unwinder(s.target(), s.symbols());
    s.target_resumed();
}

bool executable_mapping(Target& target, uint64_t address) {
    for (const auto& m : target.mappings())
        if (address >= m.start && address < m.end) return m.perms.size() > 2 && m.perms[2] == 'x';
    return false;
}

bool any_pending(const control::Controller& c) {
    for (const auto& [id, bp] : c.breakpoints())
        if (bp.addresses.empty()) return true;
    return false;
}

// ld.so finished a dlopen/dlclose: breakpoints in unloaded libraries forgotten (pending again),
// pending ones resolved when a library now defines them.
void libraries_changed(lua_State* L, control::Controller& c) {
    Session& s = SessionAccess::of(L);
    auto* process = dynamic_cast<ProcessTarget*>(&s.target());
    auto rendezvous = link_map_rendezvous(s.target());
    if (!process || !rendezvous || !rendezvous->consistent) return;
    process->refresh();  // the mappings
    c.drop_unmapped_sites([&](uint64_t address) { return executable_mapping(s.target(), address); });
    if (!any_pending(c)) return;
    reload_symbols(s);
    for (const auto& [id, bp] : c.breakpoints()) {
        if (!bp.addresses.empty()) continue;
        if (auto addresses = resolve(s, bp.location); addresses && !addresses->empty())
            (void)c.resolve_pending(id, *addresses);
    }
}

int l_available(lua_State* L) {
    std::string why;
    bool ok = controller(L, why) != nullptr;
    lua_pushboolean(L, ok);
    if (ok) return 1;
    push_string(L, why);
    return 2;
}

int l_break(lua_State* L) {
    const char* location = luaL_checkstring(L, 1);
    bool temporary = lua_toboolean(L, 2);
    auto& c = need(L);
    return guard(L, [&]() -> Expected<int> {
        auto addresses = resolve(SessionAccess::of(L), location);
        if (!addresses) return std::unexpected(addresses.error());
        if (addresses->empty()) {
            auto rendezvous = link_map_rendezvous(SessionAccess::of(L).target());
            if (!rendezvous)
                return fail(std::string("Function \"") + location + "\" not defined in any loaded module, and the "
                            "process has no dynamic linker to watch for libraries loaded later.");
            if (auto watched = c.watch_library_loads(rendezvous->r_brk); !watched)
                return std::unexpected(watched.error());
        }
        auto id = c.add_breakpoint(location, *addresses, temporary);
        if (!id) return std::unexpected(id.error());
        lua_pushinteger(L, *id);
        return 1;
    });
}

void push_breakpoint(lua_State* L, const control::Breakpoint& bp) {
    lua_createtable(L, 0, 10);
    set_field(L, "id", bp.id);
    set_field(L, "location", bp.location);
    set_bool(L, "enabled", bp.enabled);
    set_bool(L, "temporary", bp.temporary);
    set_bool(L, "pending", bp.addresses.empty());
    set_field(L, "hits", static_cast<lua_Integer>(bp.hits));
    set_field(L, "ignore", bp.ignore_count);
    set_field(L, "condition", bp.condition);
    set_field(L, "commands", bp.commands);
    lua_createtable(L, static_cast<int>(bp.addresses.size()), 0);
    for (size_t i = 0; i < bp.addresses.size(); ++i) {
        push_address(L, bp.addresses[i]);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, -2, "addresses");
}

// snag.control.sources(id): where each address is in the source ({function, file, line}), for
// `break` and `info breakpoints` (not in get(): hits call that).
int l_sources(lua_State* L) {
    int id = static_cast<int>(luaL_checkinteger(L, 1));
    auto* found = need(L).breakpoint(id);
    if (!found) return luaL_error(L, "No breakpoint number %d.", id);
    const control::Breakpoint& bp = *found;
    lua_createtable(L, static_cast<int>(bp.addresses.size()), 0);
    for (size_t i = 0; i < bp.addresses.size(); ++i) {
        auto symbols = SessionAccess::of(L).symbols().symbolize(bp.addresses[i], false);
        lua_createtable(L, 0, 3);
        if (!symbols.empty()) {
            set_field(L, "function", symbols.front().function);
            if (symbols.front().source) {
                set_field(L, "file", symbols.front().source->file);
                set_field(L, "line", symbols.front().source->line);
            }
        }
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    return 1;
}

int l_breakpoints(lua_State* L) {
    std::string why;
    auto* c = controller(L, why);
    lua_newtable(L);
    if (!c) return 1;
    lua_Integer i = 0;
    for (const auto& [id, bp] : c->breakpoints()) {
        push_breakpoint(L, bp);
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

control::Breakpoint& need_breakpoint(lua_State* L, int index) {
    int id = static_cast<int>(luaL_checkinteger(L, index));
    auto* bp = need(L).breakpoint(id);
    if (!bp) luaL_error(L, "No breakpoint number %d.", id);
    return *bp;
}

int l_get(lua_State* L) {
    push_breakpoint(L, need_breakpoint(L, 1));
    return 1;
}

int l_delete(lua_State* L) {
    int id = static_cast<int>(luaL_checkinteger(L, 1));
    auto& c = need(L);
    return guard(L, [&]() -> Expected<int> {
        auto done = c.remove_breakpoint(id);
        if (!done) return std::unexpected(done.error());
        return 0;
    });
}

int l_enable(lua_State* L) {
    int id = static_cast<int>(luaL_checkinteger(L, 1));
    bool enabled = lua_toboolean(L, 2);
    auto& c = need(L);
    return guard(L, [&]() -> Expected<int> {
        auto done = c.set_enabled(id, enabled);
        if (!done) return std::unexpected(done.error());
        return 0;
    });
}

int l_set(lua_State* L) {
    auto& bp = need_breakpoint(L, 1);
    std::string_view field = luaL_checkstring(L, 2);
    if (field == "condition") bp.condition = luaL_optstring(L, 3, "");
    else if (field == "commands") bp.commands = luaL_optstring(L, 3, "");
    else if (field == "ignore") bp.ignore_count = static_cast<int>(luaL_checkinteger(L, 3));
    else if (field == "temporary") bp.temporary = lua_toboolean(L, 3);
    else if (field == "continue_only") bp.continue_only = lua_toboolean(L, 3);
    else if (field == "hitting_thread_only") bp.hitting_thread_only = lua_toboolean(L, 3);
    else return luaL_error(L, "unknown breakpoint field '%s'", lua_tostring(L, 2));
    return 0;
}

// Runs a resuming call and pushes its stop. A failure raises the Lua error only once the call's
// C++ objects are gone: lua_error longjmps over this frame.
template <class Resume>
int push_resumed(lua_State* L, Resume&& resume) {
    char message[1024];
    int pushed;
    {
        auto stop = resume();
        pushed = push_stop(L, stop, message, sizeof message);
    }
    if (pushed < 0) return luaL_error(L, "%s", message);
    return pushed;
}

int l_continue(lua_State* L) {
    double seconds = 0;
    lua_Integer max_hits = 0;
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "seconds");
        seconds = luaL_optnumber(L, -1, 0);
        lua_getfield(L, 1, "hits");
        max_hits = luaL_optinteger(L, -1, 0);
        lua_pop(L, 2);
    }
    auto& c = need(L);
    return push_resumed(L, [&] {
        control::RunLimits limits;
        limits.seconds = seconds;
        limits.max_hits = static_cast<uint64_t>(max_hits);
        limits.interrupted = [] { return Session::interrupt_requested(); };
        auto stop = c.resume(handler(L, c), limits);
        Session::clear_interrupt();
        return stop;
    });
}

int l_step(lua_State* L) {
    int tid = static_cast<int>(luaL_checkinteger(L, 1));
    bool over = lua_toboolean(L, 2);
    auto& c = need(L);
    return push_resumed(L, [&] { return c.step_instruction(tid, over, handler(L, c)); });
}

int l_finish(lua_State* L) {
    int tid = static_cast<int>(luaL_checkinteger(L, 1));
    uint64_t return_address = check_address(L, 2);
    uint64_t sp = check_address(L, 3);
    auto& c = need(L);
    return push_resumed(L, [&] { return c.run_to_return(tid, return_address, sp, handler(L, c)); });
}

int l_detach(lua_State* L) {
    std::string why;
    if (auto* c = controller(L, why)) c->detach();
    SessionAccess::of(L).target().detach();
    SessionAccess::of(L).target_resumed();
    return 0;
}

int l_kill(lua_State* L) {
    need(L).kill();
    SessionAccess::of(L).target_resumed();
    return 0;
}

int l_interrupt(lua_State* L) {
    need(L).stop_all();
    return 0;
}

int l_handle(lua_State* L) {
    const char* signal = luaL_checkstring(L, 1);
    for (int i = 2; i <= lua_gettop(L); ++i) luaL_checkstring(L, i);
    auto& c = need(L);
    return guard(L, [&]() -> Expected<int> {
        std::vector<std::string> actions;
        for (int i = 2; i <= lua_gettop(L); ++i) actions.emplace_back(lua_tostring(L, i));
        if (!actions.empty()) {
            auto done = c.signals().handle(signal, actions);
            if (!done) return std::unexpected(done.error());
        }
        auto signo = control::SignalTable::parse(signal);
        if (!signo) return std::unexpected(signo.error());
        push_string(L, c.signals().describe(*signo));
        return 1;
    });
}

// Code bytes with breakpoints shown as the original instructions.
int l_read_code(lua_State* L) {
    uint64_t address = check_address(L, 1);
    auto n = static_cast<size_t>(luaL_checkinteger(L, 2));
    if (n > 4096) n = 4096;
    auto& c = need(L);
    luaL_Buffer buffer;
    char* bytes = luaL_buffinitsize(L, &buffer, n);
    luaL_pushresultsize(&buffer, c.read_code(address, bytes, n));
    return 1;
}

int l_pid(lua_State* L) {
    std::string why;
    auto* c = controller(L, why);
    lua_pushinteger(L, c ? c->pid() : 0);
    return 1;
}

const luaL_Reg kFunctions[] = {
    {"available", l_available}, {"break_at", l_break},   {"breakpoints", l_breakpoints},
    {"get", l_get},             {"sources", l_sources},             {"delete", l_delete},    {"enable", l_enable},
    {"set", l_set},             {"continue", l_continue}, {"step", l_step},
    {"finish", l_finish},       {"detach", l_detach},    {"kill", l_kill},
    {"interrupt", l_interrupt}, {"handle", l_handle},    {"read_code", l_read_code},
    {"pid", l_pid},             {nullptr, nullptr},
};

}  // namespace

void bind_control(lua_State* L) {
    lua_getglobal(L, "snag");
    luaL_newlib(L, kFunctions);
    lua_setfield(L, -2, "control");
    lua_pop(L, 1);
}

}  // namespace snag
