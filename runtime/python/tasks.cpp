#include "python/tasks.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "python/asyncio_debug.hpp"
#include "python/objects.hpp"

namespace snag::python {
namespace {

// TaskObj of Modules/_asynciomodule.c: FutureObj_HEAD (loop, callback0, context0, callbacks at
// 16–40, then fields that moved between versions). Checked against the DWARF of each pyenv build.
struct TaskLayout {
    Off loop = 16, callback0 = 24, callbacks = 40;
    Off state = kAbsent, fut_waiter = kAbsent, coro = kAbsent, name = kAbsent;
    Off awaited_by = kAbsent, awaited_by_is_set = kAbsent;  // 3.14+
};

// 3.14+: from the module's own debug offsets. fut_state follows fut_awaited_by and
// task_fut_waiter precedes task_coro (checked against the DWARF of Debian's 3.14 and 3.15).
TaskLayout task_layout(const AsyncioDebug& d) {
    TaskLayout t;
    t.awaited_by = static_cast<Off>(d.task_awaited_by);
    t.awaited_by_is_set = static_cast<Off>(d.task_awaited_by_is_set);
    t.state = t.awaited_by + 8;
    t.coro = static_cast<Off>(d.task_coro);
    t.fut_waiter = t.coro - 8;
    t.name = static_cast<Off>(d.task_name);
    return t;
}

std::optional<TaskLayout> task_layout(int minor) {
    TaskLayout t;
    auto set = [&](Off state, Off waiter) {
        t.state = state;
        t.fut_waiter = waiter;
        t.coro = waiter + 8;
        t.name = waiter + 16;
    };
    if (minor == 8) set(72, 104);
    else if (minor == 9) set(80, 144);
    else if (minor == 10) set(88, 152);
    else if (minor == 11 || minor == 12) set(88, 128);
    else if (minor == 13) set(96, 112);
    else return std::nullopt;
    return t;
}

constexpr Off kTpBase = 256;          // PyTypeObject.tp_base, 3.8–3.13
constexpr Off kModuleDict = 16;       // PyModuleObject.md_dict
constexpr Off kWeakrefObject = 16;    // PyWeakReference.wr_object
constexpr Off kFutureIterFuture = 16; // futureiterobject.future
constexpr Off kWakeupTask = 16;       // TaskWakeupMethWrapper.ww_task (≤3.11)
constexpr Off kCFunctionSelf = 24;    // PyCFunctionObject.m_self (3.12+ wakeup callbacks)
constexpr int kMaxChain = 64;
constexpr size_t kMaxTasks = 1 << 22;

// Where a coroutine stands: its frame, whether it runs now, and the object it awaits.
struct CoroState {
    uint64_t frame = 0;
    bool running = false, suspended = false;
};

class TaskReader {
public:
    TaskReader(Memory& mem, Objects& obj, const Layout& l, const TaskLayout& t)
        : mem_(mem), obj_(obj), l_(l), t_(t), walker_(mem, obj, l) {}

    bool derives_from(uint64_t obj, const std::string& base) {
        uint64_t type = obj_.type_of(obj);
        auto key = std::make_pair(type, base);
        auto it = derives_.find(key);
        if (it != derives_.end()) return it->second;
        bool found = false;
        uint64_t t = type;
        for (int i = 0; i < 16 && t && !found; ++i, t = mem_.ptr(t + kTpBase)) {
            auto name = mem_.cstring(mem_.ptr(t + l_.tp_name), 100);
            found = name && *name == base;
        }
        return derives_[key] = found;
    }

    // A task of the C module, or (the C module blocked or missing) asyncio.tasks' Python Task.
    bool is_task(uint64_t obj) { return derives_from(obj, "_asyncio.Task") || derives_from(obj, "Task"); }
    bool is_c_future(uint64_t obj) { return derives_from(obj, "_asyncio.Future"); }

    AsyncTask read(uint64_t task) {
        if (!is_c_future(task)) return read_python(task);
        AsyncTask out;
        out.address = task;
        out.type = obj_.type_name(task);
        out.loop = mem_.ptr(task + t_.loop);
        int state = mem_.i32(task + t_.state).value_or(-1);
        out.state = state == 0 ? "pending" : state == 1 ? "cancelled" : state == 2 ? "finished" : "?";
        out.name = task_name(mem_.ptr(task + t_.name));
        out.coro = mem_.ptr(task + t_.coro);
        out.waiter = mem_.ptr(task + t_.fut_waiter);
        if (out.waiter) out.waiter_type = obj_.type_name(out.waiter);
        if (state == 0) walk_coroutines(out);
        return out;
    }

    // Futures a callback belongs to: the task it wakes, the TaskGroup's parent task, or the
    // futures a closure (gather's _done_callback, asyncio.wait's _on_completion) completes.
    void callback_targets(uint64_t cb, std::vector<uint64_t>& tasks, std::vector<uint64_t>& futures) {
        const std::string& type = obj_.type_name(cb);
        if (type == "TaskWakeupMethWrapper") {
            tasks.push_back(mem_.ptr(cb + kWakeupTask));
        } else if (type == "builtin_function_or_method") {
            tasks.push_back(mem_.ptr(cb + kCFunctionSelf));
        } else if (type == "method") {
            uint64_t self = mem_.ptr(cb + l_.method_self);
            tasks.push_back(self);
            for (const auto& [name, value] : obj_.instance_attributes(self, 64))
                if (name == "_parent_task") tasks.push_back(value);
        } else if (type == "function") {
            uint64_t closure = mem_.ptr(cb + (l_.minor <= 9 ? 48 : 72));
            if (closure && obj_.has_flag(closure, kTupleSubclass))
                for (uint64_t cell : obj_.sequence_items(closure, 32))
                    if (obj_.type_name(cell) == "cell") futures.push_back(mem_.ptr(cell + l_.cell_ref));
        }
    }

    std::vector<uint64_t> callbacks(uint64_t future) {
        if (!is_c_future(future)) return python_callbacks(future);
        std::vector<uint64_t> out;
        if (uint64_t cb = mem_.ptr(future + t_.callback0)) out.push_back(cb);
        uint64_t list = mem_.ptr(future + t_.callbacks);
        if (list && obj_.has_flag(list, kListSubclass))
            for (uint64_t pair : obj_.sequence_items(list, 1024)) {
                auto items = obj_.sequence_items(pair, 2);
                if (!items.empty()) out.push_back(items[0]);
            }
        return out;
    }

    // 3.14+: the tasks the future records as awaiting it (fut_awaited_by: one object or a set).
    std::vector<uint64_t> recorded_awaiters(uint64_t future) {
        if (t_.awaited_by < 0) return {};
        uint64_t by = mem_.ptr(future + t_.awaited_by);
        if (!by) return {};
        if (mem_.value<uint8_t>(future + t_.awaited_by_is_set).value_or(0)) return obj_.set_items(by, 1 << 16);
        return {by};
    }

    Memory& mem() { return mem_; }
    Objects& objects() { return obj_; }

private:
    // asyncio.tasks._PyTask: the same fields as instance attributes (Future's class attribute
    // _state = 'PENDING' until set on the instance).
    AsyncTask read_python(uint64_t task) {
        AsyncTask out;
        out.address = task;
        out.type = obj_.type_name(task);
        std::string state = "PENDING";
        out.name = "?";
        for (const auto& [name, value] : obj_.instance_attributes(task, 64)) {
            if (name == "_loop") out.loop = value;
            else if (name == "_state") state = obj_.str(value, 16).value_or("?");
            else if (name == "_name") out.name = task_name(value);
            else if (name == "_coro") out.coro = value;
            else if (name == "_fut_waiter" && obj_.type_name(value) != "NoneType") out.waiter = value;
        }
        std::transform(state.begin(), state.end(), state.begin(), ::tolower);
        out.state = state;
        if (out.waiter) out.waiter_type = obj_.type_name(out.waiter);
        if (state == "pending") walk_coroutines(out);
        return out;
    }

    // Future._callbacks: a list of (callback, context) tuples.
    std::vector<uint64_t> python_callbacks(uint64_t future) {
        std::vector<uint64_t> out;
        for (const auto& [name, value] : obj_.instance_attributes(future, 64)) {
            if (name != "_callbacks" || !obj_.has_flag(value, kListSubclass)) continue;
            for (uint64_t pair : obj_.sequence_items(value, 1024)) {
                auto items = obj_.sequence_items(pair, 2);
                if (!items.empty()) out.push_back(items[0]);
            }
        }
        return out;
    }

    std::string task_name(uint64_t name) {
        if (auto s = obj_.str(name, 200)) return *s;
        if (auto n = obj_.small_int(name)) return "Task-" + std::to_string(*n);  // 3.13: named lazily
        return "?";
    }

    CoroState coro_state(uint64_t coro) {
        CoroState s;
        if (l_.minor >= 15) {
            // 3.15 renumbered: created 0, suspended 1–3 (yield from, locked), executing 4, cleared 5.
            s.frame = coro + l_.gen_iframe;
            int state = mem_.value<int8_t>(coro + l_.gen_frame_state).value_or(5);
            s.running = state == 4;
            s.suspended = state >= 1 && state <= 3;
            if (state >= 5 || state < 0) s.frame = 0;
        } else if (l_.minor >= 11) {
            s.frame = coro + l_.gen_iframe;
            int state = mem_.value<int8_t>(coro + l_.gen_frame_state).value_or(4);
            s.running = state == 0;
            s.suspended = state == -1 || (l_.minor >= 13 && state == -2);
            if (state > 0) s.frame = 0;  // completed or cleared
        } else {
            s.frame = mem_.ptr(coro + 16);  // gi_frame, NULL once finished
            if (!s.frame) return s;
            if (l_.minor == 10) {
                int state = mem_.value<int8_t>(s.frame + 108).value_or(0);  // f_state
                s.running = state == 0;
                s.suspended = state == -1;
            } else {
                s.running = mem_.value<uint8_t>(coro + 24).value_or(0) != 0;  // gi_running
                s.suspended = !s.running && mem_.ptr(s.frame + 72) != 0;      // f_stacktop
            }
        }
        return s;
    }

    // The object on top of a suspended frame's value stack: what its await / yield from sends to.
    uint64_t awaited_object(uint64_t frame) {
        if (l_.fr_stackpointer >= 0) {  // 3.14+: a pointer past the top, to tagged stack references
            uint64_t top = mem_.ptr(frame + l_.fr_stackpointer);
            uint64_t base = frame + static_cast<uint64_t>(l_.fr_localsplus);
            if (top <= base) return 0;
            uint64_t object = mem_.ptr(top - 8) & ~3ull;  // _PyStackRef tag bits
            // 3.15 suspends with a NULL reference above the awaitable.
            if (!object && l_.minor >= 15 && top - 8 > base) object = mem_.ptr(top - 16) & ~3ull;
            return object;
        }
        if (l_.minor >= 11) {
            int top = mem_.i32(frame + 64).value_or(0);  // stacktop, counted from localsplus
            return top > 0 ? mem_.ptr(frame + l_.fr_localsplus + 8 * (top - 1)) : 0;
        }
        if (l_.minor == 10) {
            int depth = mem_.i32(frame + 80).value_or(0);  // f_stackdepth
            return depth > 0 ? mem_.ptr(mem_.ptr(frame + l_.fr_valuestack) + 8 * (depth - 1)) : 0;
        }
        uint64_t top = mem_.ptr(frame + 72);  // f_stacktop
        return top ? mem_.ptr(top - 8) : 0;
    }

    uint64_t local(uint64_t frame, uint64_t code, const std::string& name) {
        const CodeInfo& info = walker_.code_info(code);
        for (size_t i = 0; i < info.local_names.size(); ++i) {
            if (info.local_names[i] != name) continue;
            uint64_t v = mem_.ptr(frame + l_.fr_localsplus + 8 * i);
            if (v && obj_.type_name(v) == "cell") v = mem_.ptr(v + l_.cell_ref);
            return v;
        }
        return 0;
    }

    void walk_coroutines(AsyncTask& task) {
        ReprLimits limits;
        uint64_t current = task.coro, innermost_frame = 0;
        std::unordered_set<uint64_t> seen;
        for (int depth = 0; depth < kMaxChain && current && seen.insert(current).second; ++depth) {
            const std::string& type = obj_.type_name(current);
            if (type != "coroutine" && type != "generator") break;
            CoroState s = coro_state(current);
            if (!s.frame) break;
            FrameChain chain = walker_.walk(s.frame, false, limits, 1);
            if (chain.frames.empty()) break;
            task.stack.insert(task.stack.begin(), std::move(chain.frames.front()));
            innermost_frame = s.frame;
            if (s.running) task.running = true;
            if (!s.suspended) break;
            uint64_t next = awaited_object(s.frame);
            if (next && obj_.type_name(next) == "_asyncio.FutureIter") break;
            current = next;
        }
        classify(task, innermost_frame);
    }

    // What the innermost coroutine waits in, from its function and the object it is a method of.
    void classify(AsyncTask& task, uint64_t frame) {
        if (task.running) {
            task.kind = "running";
            return;
        }
        if (!task.waiter) {
            task.kind = "ready";
            return;
        }
        if (is_task(task.waiter)) {
            task.kind = "task";
            return;
        }
        if (task.waiter_type == "_GatheringFuture") {
            task.kind = "gather";
            task.awaiting = "gather";
            return;
        }
        task.kind = task.awaiting = "future";
        if (task.stack.empty()) return;
        // The Python Future's __await__ generator is the innermost frame of a pure-Python
        // chain: what it waits in is the frame that awaits that future.
        bool future_await = task.stack.size() > 1 && task.stack[0].function.ends_with("__await__") &&
                            task.stack[0].file.ends_with("asyncio/futures.py");
        const PyFrame& top = task.stack[future_await ? 1 : 0];
        if (future_await) frame = top.address;
        std::string fn = top.function.substr(top.function.rfind('.') + 1);
        uint64_t self = frame ? local(frame, top.code, "self") : 0;
        std::string self_type = self ? obj_.type_name(self) : "";
        static const std::map<std::string, std::string> kinds = {
            {"Lock", "lock"}, {"Event", "event"}, {"Condition", "condition"},
            {"Semaphore", "semaphore"}, {"BoundedSemaphore", "semaphore"}, {"Queue", "queue"},
            {"PriorityQueue", "queue"}, {"LifoQueue", "queue"}, {"StreamReader", "socket"},
            {"TaskGroup", "taskgroup"}, {"Barrier", "barrier"}};
        auto k = kinds.find(self_type);
        if (k != kinds.end()) {
            task.kind = k->second;
            task.awaiting = self_type + "." + fn;
        } else if (fn == "sleep" && top.file.ends_with("asyncio/tasks.py")) {
            task.kind = task.awaiting = "sleep";
        } else if (fn.starts_with("sock_")) {
            task.kind = "socket";
            task.awaiting = "loop." + fn;
        }
    }

    Memory& mem_;
    Objects& obj_;
    const Layout& l_;
    TaskLayout t_;
    FrameWalker walker_;
    std::map<std::pair<uint64_t, std::string>, bool> derives_;
};

// Members of asyncio.tasks' registries: the WeakSet of scheduled tasks and (3.12+) the set of
// eager tasks still running their first step. From 3.14 they hold only tasks the C module does
// not keep in its lists (all of them when it is not used).
std::vector<uint64_t> registered_tasks(TaskReader& r, uint64_t tasks_module, int minor,
                                       std::vector<std::string>& warnings) {
    Objects& obj = r.objects();
    Memory& mem = r.mem();
    uint64_t dict = mem.ptr(tasks_module + kModuleDict);
    std::vector<uint64_t> out;
    auto add_set = [&](uint64_t set, bool weak) {
        for (uint64_t item : obj.set_items(set, 1 << 22)) {
            uint64_t task = weak ? mem.ptr(item + kWeakrefObject) : item;
            if (task && r.is_task(task)) out.push_back(task);
        }
    };
    const char* weak_name = minor >= 12 ? "_scheduled_tasks" : "_all_tasks";
    auto weak = obj.dict_get(dict, weak_name);
    if (!weak) {
        warnings.push_back(std::string("asyncio.tasks has no ") + weak_name);
        return out;
    }
    if (minor >= 14 && obj.type_name(*weak) != "WeakSet") return out;
    for (const auto& [name, value] : obj.instance_attributes(*weak, 64))
        if (name == "data") add_set(value, true);
    if (minor >= 12)
        if (auto eager = obj.dict_get(dict, "_eager_tasks")) add_set(*eager, false);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void link_awaiters(TaskReader& r, std::vector<AsyncTask>& tasks) {
    std::unordered_map<uint64_t, size_t> index;
    std::unordered_map<uint64_t, std::vector<size_t>> by_waiter;
    for (size_t i = 0; i < tasks.size(); ++i) {
        index[tasks[i].address] = i;
        if (tasks[i].waiter) by_waiter[tasks[i].waiter].push_back(i);
    }
    for (auto& t : tasks) {
        std::set<uint64_t> awaiters;
        auto add_waiters_of = [&](uint64_t future) {
            auto it = by_waiter.find(future);
            if (it != by_waiter.end())
                for (size_t i : it->second) awaiters.insert(tasks[i].address);
        };
        add_waiters_of(t.address);
        std::vector<uint64_t> direct = r.recorded_awaiters(t.address), futures;
        for (uint64_t cb : r.callbacks(t.address)) r.callback_targets(cb, direct, futures);
        for (uint64_t d : direct) if (index.count(d)) awaiters.insert(d);
        for (uint64_t f : futures) if (f != t.address) add_waiters_of(f);
        awaiters.erase(t.address);
        t.awaited_by.assign(awaiters.begin(), awaiters.end());
    }
    for (auto& t : tasks)
        for (uint64_t a : t.awaited_by) tasks[index[a]].awaits.push_back(t.address);
    auto by_name = [&](uint64_t a, uint64_t b) {
        return std::tie(tasks[index[a]].name, a) < std::tie(tasks[index[b]].name, b);
    };
    for (auto& t : tasks) {
        std::sort(t.awaits.begin(), t.awaits.end(), by_name);
        if (t.kind == "task" && t.awaiting.empty()) {
            auto it = index.find(t.waiter);
            if (it != index.end()) t.awaiting = "task '" + tasks[it->second].name + "'";
        }
    }
}

// Loops and their threads: the loop each thread runs (3.14+), else the loop's _thread_id.
void group_loops(Objects& obj, AsyncState& state, const std::map<uint64_t, uint64_t>& loop_threads) {
    std::map<uint64_t, size_t> at;
    for (size_t i = 0; i < state.tasks.size(); ++i) {
        uint64_t loop = state.tasks[i].loop;
        auto [it, fresh] = at.emplace(loop, state.loops.size());
        if (fresh) {
            AsyncLoop l;
            l.address = loop;
            if (auto known = loop_threads.find(loop); known != loop_threads.end()) l.thread_id = known->second;
            for (const auto& [name, value] : obj.instance_attributes(loop, 128))
                if (name == "_thread_id" && !l.thread_id)
                    l.thread_id = static_cast<uint64_t>(obj.small_int(value).value_or(0));
            state.loops.push_back(l);
        }
        state.loops[it->second].tasks.push_back(i);
    }
    for (auto& l : state.loops)
        std::sort(l.tasks.begin(), l.tasks.end(), [&](size_t a, size_t b) {
            return std::tie(state.tasks[a].name, state.tasks[a].address) <
                   std::tie(state.tasks[b].name, state.tasks[b].address);
        });
}

// The running task's coroutine frames are on its thread's stack: newer frames there are what
// it awaits right now (a suspended chain is walked from the coroutines instead).
void splice_running(AsyncTask& task, const PythonState& threads) {
    if (!task.running || task.stack.empty()) return;
    uint64_t outer = task.stack.back().address;
    for (const auto& t : threads.threads) {
        const auto& frames = t.stack.frames;
        for (size_t i = 0; i < frames.size(); ++i)
            if (frames[i].address == outer) {
                task.stack.assign(frames.begin(), frames.begin() + static_cast<long>(i) + 1);
                for (auto& f : task.stack) f.locals.clear();
                return;
            }
    }
}

}  // namespace

std::vector<std::vector<uint64_t>> find_await_cycles(const std::vector<AsyncTask>& tasks) {
    // Tarjan's strongly connected components over "awaits" edges; each with >1 task is a cycle.
    std::unordered_map<uint64_t, size_t> index;
    for (size_t i = 0; i < tasks.size(); ++i) index[tasks[i].address] = i;
    std::vector<int> order(tasks.size(), -1), low(tasks.size(), 0);
    std::vector<bool> on_stack(tasks.size(), false);
    std::vector<size_t> stack;
    std::vector<std::vector<uint64_t>> cycles;
    int counter = 0;
    std::function<void(size_t)> visit = [&](size_t v) {
        order[v] = low[v] = counter++;
        stack.push_back(v);
        on_stack[v] = true;
        for (uint64_t a : tasks[v].awaits) {
            auto it = index.find(a);
            if (it == index.end()) continue;
            size_t w = it->second;
            if (order[w] < 0) {
                visit(w);
                low[v] = std::min(low[v], low[w]);
            } else if (on_stack[w]) {
                low[v] = std::min(low[v], order[w]);
            }
        }
        if (low[v] != order[v]) return;
        std::vector<uint64_t> component;
        size_t w;
        do {
            w = stack.back();
            stack.pop_back();
            on_stack[w] = false;
            component.push_back(tasks[w].address);
        } while (w != v);
        if (component.size() > 1) {
            std::sort(component.begin(), component.end());
            cycles.push_back(std::move(component));
        }
    };
    for (size_t i = 0; i < tasks.size(); ++i)
        if (order[i] < 0 && !tasks[i].awaits.empty()) visit(i);
    std::sort(cycles.begin(), cycles.end());
    return cycles;
}

namespace {

// The task layout of this version: a built-in table up to 3.13, the module's debug offsets after.
std::optional<TaskLayout> layout_for(int minor, const std::optional<AsyncioDebug>& debug,
                                     std::vector<std::string>& warnings) {
    if (minor <= 13) {
        auto t = task_layout(minor);
        if (!t) warnings.push_back("asyncio tasks are not readable on Python 3." + std::to_string(minor));
        return t;
    }
    if (debug) return task_layout(*debug);
    return std::nullopt;
}

}  // namespace

AsyncState read_async_tasks(Target& target, const PythonRuntime& runtime, const PythonState* threads,
                            Symbolizer* symbols) {
    AsyncState state;
    const Layout& l = runtime.layout;
    if (l.free_threaded) {
        state.warnings.push_back("asyncio tasks are not read on free-threaded builds yet");
        return state;
    }
    Memory mem(target);
    Objects obj(mem, l);
    uint64_t interp = mem.ptr(runtime.interp_head_at);
    uint64_t modules = interp && l.is_modules >= 0 ? mem.ptr(interp + l.is_modules) : 0;
    if (!modules) {
        state.warnings.push_back("cannot read sys.modules");
        return state;
    }
    auto module = obj.dict_get(modules, "asyncio.tasks");
    if (!module) return state;  // asyncio never imported: no tasks
    state.asyncio_loaded = true;
    // Without its C module (blocked, or a build lacking it) asyncio runs the Python Task.
    auto c_module = obj.dict_get(modules, "_asyncio");
    bool native = c_module && obj.type_name(*c_module) == "module";
    // 3.14+ keep tasks in per-thread lists that the _asyncio module's debug offsets describe.
    std::optional<AsyncioDebug> debug;
    if (l.minor >= 14 && native) {
        auto found = symbols ? find_asyncio_debug(target, *symbols)
                             : Expected<AsyncioDebug>(fail("no symbols to find the asyncio debug offsets with"));
        if (!found) {
            state.warnings.push_back("cannot read the asyncio tasks of Python 3." + std::to_string(l.minor) +
                                     ": " + found.error().message);
            return state;
        }
        debug = *found;
    }
    auto tl = native ? layout_for(l.minor, debug, state.warnings) : TaskLayout{};
    if (!tl) return state;
    TaskReader reader(mem, obj, l, *tl);
    std::vector<uint64_t> registered;
    std::map<uint64_t, uint64_t> loop_threads;
    if (debug) {
        LinkedTasks linked = linked_tasks(mem, l, interp, *debug, kMaxTasks);
        if (linked.truncated) state.warnings.push_back("a list of asyncio tasks is damaged or longer than " +
                                                       std::to_string(kMaxTasks) + ": tasks may be missing");
        for (uint64_t t : linked.tasks)
            if (reader.is_task(t)) registered.push_back(t);
        for (const auto& t : linked.threads)
            if (t.running_loop) loop_threads[t.running_loop] = t.thread_id;
    }
    for (uint64_t t : registered_tasks(reader, *module, l.minor, state.warnings)) registered.push_back(t);
    std::sort(registered.begin(), registered.end());
    registered.erase(std::unique(registered.begin(), registered.end()), registered.end());
    state.tasks.reserve(registered.size());
    for (uint64_t t : registered) state.tasks.push_back(reader.read(t));
    link_awaiters(reader, state.tasks);
    if (threads)
        for (auto& t : state.tasks) splice_running(t, *threads);
    group_loops(obj, state, loop_threads);
    state.cycles = find_await_cycles(state.tasks);
    return state;
}

}  // namespace snag::python
