// CPython in Lua: target.python (nil unless the target runs CPython) with version, threads
// (GIL, GC, names, frames, locals, locks waited on, exceptions), repr of objects and sys.modules.
// The state is read once per stop and shared by every command (thread apply all py-bt).
#include <cstring>
#include <map>
#include <unordered_map>

#include "lua/lua_support.hpp"
#include "lua/python_cache.hpp"
#include "python/merge.hpp"
#include "python/py_report.hpp"

namespace snag {

namespace {

const char* kPythonMeta = "snag.Python";

}  // namespace

// Discovery happens once per stop; its failure (no CPython) is remembered too.
Expected<PythonCache*> python_cache(Session& s) {
    auto& cache = SessionAccess::python(s);
    if (!cache) cache = std::make_unique<PythonCache>();
    if (!cache->runtime) cache->runtime = python::find_python_runtime(s.target(), s.symbols());
    if (!*cache->runtime) return std::unexpected(cache->runtime->error());
    if (!cache->memory) {
        cache->memory = std::make_unique<python::Memory>(s.target());
        cache->objects = std::make_unique<python::Objects>(*cache->memory, (*cache->runtime)->layout);
    }
    return cache.get();
}

namespace {

// ELF symbol names of the innermost frames up to the eval loop: all that tells a wait for the
// GIL (take_gil & co.), without DWARF line tables; whole: every frame (the collector under a
// finalizer). Memoized by pc: thread stacks repeat.
std::vector<FrameReport> function_names(Session& s, int tid, std::unordered_map<uint64_t, std::string>& memo,
                                        bool whole) {
    std::vector<FrameReport> out;
    const auto& frames = s.native_stack(tid).frames;
    for (size_t i = 0; i < frames.size(); ++i) {
        uint64_t at = i == 0 || frames[i - 1].is_signal_frame ? frames[i].pc : frames[i].pc - 1;
        auto it = memo.find(at);
        if (it == memo.end()) {
            auto sym = s.symbols().symbol_at(at);
            it = memo.emplace(at, sym ? sym->first : "").first;
        }
        FrameReport r;
        r.pc = frames[i].pc;
        r.function = it->second;
        out.push_back(std::move(r));
        if (!whole && python::is_eval_loop(out.back().function)) break;
    }
    return out;
}

}  // namespace

const python::PythonState& python_state(Session& s, PythonCache& c, bool locals) {
    auto& slot = locals ? c.state_with_locals : c.state;
    if (!slot) {
        python::ReadOptions options;
        options.locals = locals;
        options.limits = python::ReprLimits::gdb_libpython();  // py-locals, py-up: as gdb prints them
        slot = python::read_python_state(s.target(), **c.runtime, options);
        // Waiting for the GIL shows only in the native stack (take_gil in the eval loop).
        std::unordered_map<uint64_t, std::string> memo;
        for (auto& t : slot->threads)
            if (!slot->gil_disabled && !t.holds_gil && t.tid != 0)
                t.waiting_for_gil = python::native_stack_waits_for_gil(function_names(s, t.tid, memo, false));
        // A collection shows as the collector on the native stack of the thread running it.
        std::map<int, std::vector<FrameReport>> whole;
        if (slot->gc_collecting)
            for (const auto& t : slot->threads)
                if (t.tid != 0 && !whole.count(t.tid)) whole[t.tid] = function_names(s, t.tid, memo, true);
        python::mark_collecting_threads(*slot, whole);
    }
    return *slot;
}

namespace {

void push_frames(lua_State* L, const python::FrameChain& chain) {
    lua_createtable(L, static_cast<int>(chain.frames.size()), 1);
    for (size_t i = 0; i < chain.frames.size(); ++i) {
        const python::PyFrame& f = chain.frames[i];
        lua_createtable(L, 0, 8);
        set_field(L, "level", static_cast<lua_Integer>(i));
        set_field(L, "function", f.function);
        set_field(L, "file", f.file);
        set_field(L, "line", f.line);
        if (f.column >= 0) {  // 3.11+ positions (0-based columns, as co_positions)
            set_field(L, "end_line", f.end_line);
            set_field(L, "column", f.column);
            set_field(L, "end_column", f.end_column);
        }
        set_address(L, "address", f.address);
        set_address(L, "code", f.code);
        set_bool(L, "entry", f.entry);
        lua_createtable(L, static_cast<int>(f.locals.size()), 0);
        for (size_t j = 0; j < f.locals.size(); ++j) {
            lua_createtable(L, 0, 2);
            set_field(L, "name", f.locals[j].first);
            set_field(L, "value", f.locals[j].second);
            lua_rawseti(L, -2, static_cast<lua_Integer>(j + 1));
        }
        lua_setfield(L, -2, "locals");
        if (!f.locals_line.empty()) set_field(L, "locals_line", f.locals_line);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    if (!chain.error.empty()) set_field(L, "error", chain.error);
}

void push_wait(lua_State* L, const python::WaitTarget& w) {
    lua_createtable(L, 0, 4);
    set_field(L, "function", w.function);
    set_field(L, "type", w.type);
    set_address(L, "address", w.address);
    if (w.lock) {
        lua_createtable(L, 0, 5);
        set_field(L, "kind", w.lock->kind);
        set_address(L, "address", w.lock->address);
        if (w.lock->state_known) set_bool(L, "locked", w.lock->locked);  // nil: layout not verified
        set_address(L, "owner_thread_id", w.lock->owner_thread_id);
        set_field(L, "count", static_cast<lua_Integer>(w.lock->count));
        lua_setfield(L, -2, "lock");
    }
}

void push_exception(lua_State* L, const python::ThreadException& e) {
    lua_createtable(L, 0, 2);
    set_field(L, "state", e.state);
    lua_createtable(L, static_cast<int>(e.chain.size()), 0);
    for (size_t i = 0; i < e.chain.size(); ++i) {
        lua_createtable(L, 0, 4);
        set_field(L, "relation", e.chain[i].relation);
        set_field(L, "type", e.chain[i].type);
        set_field(L, "value", e.chain[i].value);
        set_address(L, "address", e.chain[i].address);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, -2, "chain");
}

void push_py_thread(lua_State* L, const python::PyThread& t, const std::string& status) {
    lua_createtable(L, 0, 14);
    set_field(L, "tid", t.tid);
    set_address(L, "thread_id", t.thread_id);
    set_address(L, "thread_state", t.thread_state);
    set_field(L, "interpreter_id", t.interpreter_id);
    set_field(L, "name", t.name);
    set_bool(L, "gil", t.holds_gil);
    set_bool(L, "waiting_for_gil", t.waiting_for_gil);
    if (t.attach_state >= 0) set_bool(L, "attached", t.attach_state == 1);
    set_bool(L, "gc", t.gc_running);
    set_field(L, "status", status);
    push_frames(L, t.stack);
    lua_setfield(L, -2, "frames");
    if (t.waiting_on) {
        push_wait(L, *t.waiting_on);
        lua_setfield(L, -2, "waiting_on");
    }
    if (!t.with_locks.empty()) {
        lua_createtable(L, static_cast<int>(t.with_locks.size()), 0);
        for (size_t i = 0; i < t.with_locks.size(); ++i) {
            lua_createtable(L, 0, 2);
            set_address(L, "address", t.with_locks[i].address);
            set_field(L, "frame", static_cast<lua_Integer>(t.with_locks[i].frame + 1));  // index into frames
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        lua_setfield(L, -2, "with_locks");
    }
    if (t.exception) {
        push_exception(L, *t.exception);
        lua_setfield(L, -2, "exception");
    }
}

// The optional {locals = true} table of py:threads / py:thread.
bool locals_option(lua_State* L, int index) {
    if (!lua_istable(L, index)) return false;
    lua_getfield(L, index, "locals");
    bool locals = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return locals;
}

// The same header word py-bt prints, without building a whole report for it.
std::string status_of(Session& s, const python::PythonState& state, const python::PyThread& t) {
    const Thread* os = s.target().thread(t.tid);
    return python::thread_status(state, t, os ? os->state : '?');
}

// py:threads{locals = true} → the thread states of every interpreter, in CPython's order.
int l_threads(lua_State* L) {
    check_generation(L, 1, "python");
    bool locals = locals_option(L, 2);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        const auto& state = python_state(s, **cache, locals);
        lua_createtable(L, static_cast<int>(state.threads.size()), 0);
        for (size_t i = 0; i < state.threads.size(); ++i) {
            push_py_thread(L, state.threads[i], status_of(s, state, state.threads[i]));
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

// py:thread(tid [, {locals = true}]) → the thread state running on OS thread tid, or nil; in a
// thread that entered a subinterpreter, the innermost one, followed by the frames of the
// interpreters it was entered from (all the Python frames on that native stack, as gdb's py-bt).
// Commands run per thread (thread apply all py-bt) use this: it builds one table, not all.
int l_thread(lua_State* L) {
    check_generation(L, 1, "python");
    int tid = static_cast<int>(luaL_checkinteger(L, 2));
    bool locals = locals_option(L, 3);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        const auto& state = python_state(s, **cache, locals);
        for (const auto& group : python::threads_by_os_thread(state)) {
            if (group.front()->tid != tid) continue;
            python::PyThread t = *group.front();
            for (size_t i = 1; i < group.size(); ++i)
                t.stack.frames.insert(t.stack.frames.end(), group[i]->stack.frames.begin(), group[i]->stack.frames.end());
            push_py_thread(L, t, status_of(s, state, t));
            return 1;
        }
        lua_pushnil(L);
        return 1;
    });
}

int l_gil_holder(lua_State* L) {
    check_generation(L, 1, "python");
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        for (const auto& t : python_state(s, **cache, false).threads)
            if (t.holds_gil) {
                lua_pushinteger(L, t.tid);
                return 1;
            }
        lua_pushnil(L);
        return 1;
    });
}

// py:repr(addr [, depth]) → Python-like repr of the object at addr.
int l_repr(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    lua_Integer depth = luaL_optinteger(L, 3, 3);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        python::ReprLimits limits;
        limits.depth = static_cast<int>(depth);
        push_string(L, (*cache)->objects->repr(addr, limits));
        return 1;
    });
}

int l_type_name(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        push_string(L, (*cache)->objects->type_name(addr));
        return 1;
    });
}

// py:lookup(frame, name) → repr, "global" | "builtin": a name the frame's locals lack, looked up
// as Python does next (libpython's py-print), or nil.
int l_lookup(lua_State* L) {
    check_generation(L, 1, "python");
    uint64_t frame = check_address(L, 2);
    std::string name = luaL_checkstring(L, 3);
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        python::Objects& obj = *(*cache)->objects;
        auto scopes = python::frame_namespaces(*(*cache)->memory, obj, (*(*cache)->runtime)->layout, frame);
        for (auto [dict, scope] : {std::pair{scopes.globals, "global"}, std::pair{scopes.builtins, "builtin"}}) {
            auto value = dict ? obj.dict_get(dict, name) : std::nullopt;
            if (!value) continue;
            push_string(L, obj.repr(*value, python::ReprLimits::gdb_libpython()));
            lua_pushstring(L, scope);
            return 2;
        }
        lua_pushnil(L);
        return 1;
    });
}

// py:modules() → sys.modules of the main interpreter: {name, file} sorted by name.
int l_modules(lua_State* L) {
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) return std::unexpected(cache.error());
        const python::PythonRuntime& rt = *(*(*cache)->runtime);
        if (rt.layout.is_modules == python::kAbsent)
            return fail("this Python's layout does not locate sys.modules");
        python::Memory& mem = *(*cache)->memory;
        python::Objects& obj = *(*cache)->objects;
        uint64_t interp = mem.ptr(rt.interp_head_at);
        uint64_t modules = interp ? mem.ptr(interp + static_cast<uint64_t>(rt.layout.is_modules)) : 0;
        if (modules == 0) return fail("cannot read sys.modules (no interpreter state)");
        std::map<std::string, std::string> found;
        for (const auto& [key, module] : obj.dict_items(modules)) {
            auto name = obj.str(key);
            if (!name) continue;
            std::string file;
            for (const auto& [attr, value] : obj.instance_attributes(module, 64))
                if (attr == "__file__") file = obj.str(value).value_or("");
            found[*name] = file;
        }
        lua_createtable(L, static_cast<int>(found.size()), 0);
        lua_Integer i = 0;
        for (const auto& [name, file] : found) {
            lua_createtable(L, 0, 2);
            set_field(L, "name", name);
            if (!file.empty()) set_field(L, "file", file);
            lua_rawseti(L, -2, ++i);
        }
        return 1;
    });
}

// target:find_python() → the CPython object, or nil, why not and whether a CPython is there
// (one snag cannot read) (target.python is the same object without the reasons).
int l_python(lua_State* L) {
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        auto cache = python_cache(s);
        if (!cache) {
            lua_pushnil(L);
            push_string(L, cache.error().message);
            lua_pushboolean(L, !python::python_absent(cache.error()));
            return 3;
        }
        const python::PythonRuntime& rt = *(*(*cache)->runtime);
        const auto& state = python_state(s, **cache, false);
        lua_createtable(L, 0, 8);
        set_field(L, "version", rt.version);
        set_field(L, "module", rt.module_path);
        set_field(L, "found_by", rt.found_by);
        set_field(L, "layout_source", state.layout_source);
        set_bool(L, "gil_known", state.gil_known);
        set_bool(L, "free_threaded", state.free_threaded);
        set_bool(L, "gil_disabled", state.gil_disabled);
        set_bool(L, "gc_collecting", state.gc_collecting);
        stamp_generation(L, s);
        luaL_setmetatable(L, kPythonMeta);
        return 1;
    });
}

// target.python reads like a field (nil without CPython) though it is computed on first use.
int l_target_index(lua_State* L) {
    lua_getmetatable(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1)) return 1;
    const char* key = lua_tostring(L, 2);
    if (key == nullptr || std::strcmp(key, "python") != 0) return 1;
    lua_settop(L, 1);
    l_python(L);
    lua_settop(L, 2);  // the python object or nil, dropping the reason
    return 1;
}

const luaL_Reg kPythonMethods[] = {
    {"threads", l_threads}, {"thread", l_thread}, {"gil_holder", l_gil_holder}, {"repr", l_repr},
    {"type_name", l_type_name}, {"modules", l_modules}, {"lookup", l_lookup},
    {nullptr, nullptr},
};

}  // namespace

void bind_python(lua_State* L) {
    luaL_newmetatable(L, kPythonMeta);
    luaL_setfuncs(L, kPythonMethods, 0);
    bind_python_tasks(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_getmetatable(L, "snag.Target");
    lua_pushcfunction(L, l_python);
    lua_setfield(L, -2, "find_python");
    lua_pushcfunction(L, l_target_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

}  // namespace snag
