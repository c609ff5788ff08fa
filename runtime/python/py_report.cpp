#include "python/py_report.hpp"

#include "base/hex.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "python/merge.hpp"
#include "report/json_text.hpp"

namespace snag::python {
namespace {

constexpr size_t kLongValue = 120;  // --locals: values this long are printed once per thread

using nlohmann::json;

// A lock owner by its thread: "thread 1234 \"worker-1\", ident 0x7f…" (the ident alone when no
// thread of the report has it).
std::string owner_text(const PyReport& report, uint64_t ident) {
    for (const auto& v : report.threads)
        if (v.python && v.python->thread_id == ident)
            return "thread " + std::to_string(v.tid) + (v.name.empty() ? "" : " \"" + v.name + "\"") + ", ident " + hex(ident);
    return "thread ident " + hex(ident);
}

std::string wait_text(const PyReport& report, const WaitTarget& w) {
    std::string text = "waiting on " + w.type + " at " + hex(w.address);
    if (w.lock) {
        text += !w.lock->state_known ? " (state unknown" : w.lock->locked ? " (locked" : " (unlocked";
        if (w.lock->kind == "RLock" && w.lock->owner_thread_id)
            text += ", owner " + owner_text(report, w.lock->owner_thread_id) + ", count " + std::to_string(w.lock->count);
        text += ")";
    }
    return text + " in " + w.function;
}

// The plain Locks a thread's open `with` blocks hold, save the one it is entering (the innermost
// frame of a thread waiting on that lock): Python records no owner, so this is inferred.
std::vector<std::string> held_texts(const PyThread& t) {
    std::vector<std::string> out;
    for (const auto& held : t.with_locks) {
        if (held.frame == 0 && t.waiting_on && t.waiting_on->address == held.address) continue;
        std::string where = held.frame < t.stack.frames.size() ? t.stack.frames[held.frame].function : "?";
        out.push_back("holds Lock at " + hex(held.address) + " (inferred: its `with` block is open in " + where + ")");
    }
    return out;
}

json lock_json(const LockInfo& lock) {
    json out = {{"kind", lock.kind}, {"address", lock.address}};
    out["locked"] = lock.state_known ? json(lock.locked) : json(nullptr);
    if (!lock.state_known) out["unknown_reason"] = lock.unknown_reason;
    if (lock.kind == "RLock") {
        out["owner_thread_id"] = lock.owner_thread_id;
        out["count"] = lock.count;
    }
    return out;
}

json python_json(const PyThreadView& v) {
    const PyThread& t = *v.python;
    json out = {{"thread_id", t.thread_id}, {"gil", t.holds_gil}, {"waiting_for_gil", t.waiting_for_gil},
                {"gc", t.gc_running}, {"status", v.status}, {"interpreter", t.interpreter_id},
                {"thread_state", t.thread_state}};
    if (t.attach_state >= 0) out["attached"] = t.attach_state == 1;
    if (!v.entered_from.empty()) {  // innermost first: this interpreter, then the ones it was entered from
        json ids = json::array({t.interpreter_id});
        for (const PyThread* outer : v.entered_from) ids.push_back(outer->interpreter_id);
        out["interpreters"] = std::move(ids);
    }
    if (t.waiting_on) {
        json w = {{"function", t.waiting_on->function}, {"type", t.waiting_on->type},
                  {"address", t.waiting_on->address}};
        if (t.waiting_on->lock) w["lock"] = lock_json(*t.waiting_on->lock);
        out["waiting_on"] = std::move(w);
    }
    if (!t.with_locks.empty()) {  // plain Locks held by open `with` blocks (inferred), frame index innermost 0
        json holds = json::array();
        for (const auto& held : t.with_locks) holds.push_back({{"address", held.address}, {"frame", held.frame}});
        out["with_locks"] = std::move(holds);
    }
    if (t.exception) {
        json chain = json::array();
        for (const auto& link : t.exception->chain)
            chain.push_back({{"type", link.type}, {"value", link.value}, {"relation", link.relation},
                             {"address", link.address}});
        out["exception"] = {{"state", t.exception->state}, {"chain", std::move(chain)}};
    }
    return out;
}

json frame_json(const FrameReport& f) {
    bool native = f.kind == FrameReport::Kind::Native;
    json out = {{"kind", native ? "native" : "python"},
                {"function", f.function.empty() ? json(nullptr) : json(f.function)},
                {"file", f.file.empty() ? json(nullptr) : json(f.file)},
                {"line", f.line > 0 ? json(f.line) : json(nullptr)}};
    if (!native && f.interpreter >= 0) out["interpreter"] = f.interpreter;
    if (!native && f.column >= 0) {  // 3.11+ positions, as co_positions gives them
        out["end_line"] = f.end_line > 0 ? json(f.end_line) : json(nullptr);
        out["column"] = f.column;
        out["end_column"] = f.end_column >= 0 ? json(f.end_column) : json(nullptr);
    }
    if (native) {
        out["module"] = f.module.empty() ? json(nullptr) : json(f.module);
        out["pc"] = f.pc;
        out["offset"] = f.offset;
        out["inlined"] = f.inlined;
    }
    if (!f.note.empty()) out["note"] = f.note;
    if (!f.locals.empty()) {
        json locals = json::object();
        for (const auto& [name, repr] : f.locals) locals[name] = repr;
        out["locals"] = std::move(locals);
    }
    return out;
}

}  // namespace

// Without a GIL every attached thread may run bytecode at once; a detached one is in a blocking
// call or native code, a suspended one waits out a stop-the-world pause (the free-threaded GC).
std::string status_without_gil(const PyThread& t, char os_state) {
    if (t.attach_state == 1) return "running Python, no GIL";
    if (t.attach_state == 2) return "suspended by a stop-the-world pause";
    return os_state == 'R' ? "running native code" : "idle";
}

std::string thread_status(const PythonState& state, const PyThread& t, char os_state) {
    std::string s;
    if (state.gil_disabled) s = status_without_gil(t, os_state);
    else if (t.holds_gil) s = "holds the GIL";
    else if (t.waiting_for_gil) s = "waiting for the GIL";
    else if (!state.gil_known) s = t.stack.frames.empty() ? "idle" : "running";
    else s = "idle";
    // Released the GIL but on a CPU (I/O in a C call, a C extension): not idle.
    if (s == "idle" && os_state == 'R') s = "running without the GIL";
    if (t.gc_running) s += ", collecting garbage";
    if (!t.tid) s += ", no OS thread";
    return s;
}


std::vector<std::vector<const PyThread*>> threads_by_os_thread(const PythonState& state) {
    std::vector<std::vector<const PyThread*>> out;
    std::map<int, size_t> slot;
    for (const auto& t : state.threads) {
        auto it = t.tid ? slot.find(t.tid) : slot.end();
        if (it == slot.end()) {
            if (t.tid) slot[t.tid] = out.size();
            out.push_back({&t});
        } else {
            out[it->second].push_back(&t);
        }
    }
    for (auto& group : out) {
        bool any_frames = false;
        for (const PyThread* t : group) any_frames = any_frames || !t->stack.frames.empty();
        if (any_frames) std::erase_if(group, [](const PyThread* t) { return t->stack.frames.empty(); });
        else group.resize(1);
        std::stable_sort(group.begin(), group.end(), [](const PyThread* a, const PyThread* b) {
            if ((a->c_stack != 0) != (b->c_stack != 0)) return a->c_stack != 0;
            if (a->c_stack != b->c_stack) return a->c_stack < b->c_stack;
            return a->interpreter_id > b->interpreter_id;  // unknown: the newer one is entered last
        });
    }
    return out;
}

PyReport build_py_report(const PythonState& state, const std::vector<Thread>& os_threads,
                         const std::map<int, std::vector<FrameReport>>& native_frames, bool merge) {
    PyReport report;
    report.state = &state;
    report.warnings = state.warnings;
    for (const auto& group : threads_by_os_thread(state)) {
        const PyThread& t = *group.front();
        PyThreadView v;
        v.python = &t;
        v.entered_from.assign(group.begin() + 1, group.end());
        v.tid = t.tid;
        for (auto it = group.rbegin(); it != group.rend() && v.name.empty(); ++it) v.name = (*it)->name;
        for (const auto& os : os_threads)
            if (os.tid == t.tid) {
                v.state = os.state;
                if (v.name.empty()) v.name = os.name;
            }
        std::vector<PyFrame> python;
        std::vector<int64_t> interpreters;
        for (const PyThread* part : group) {
            python.insert(python.end(), part->stack.frames.begin(), part->stack.frames.end());
            interpreters.insert(interpreters.end(), part->stack.frames.size(), part->interpreter_id);
            if (v.error.empty()) v.error = part->stack.error;
        }
        auto native = native_frames.find(t.tid);
        if (merge && native != native_frames.end()) {
            MergedStack merged = merge_stacks(native->second, python);
            v.frames = std::move(merged.frames);
            if (!merged.merged) report.warnings.push_back("thread " + std::to_string(t.tid) + ": " + merged.note);
        } else {
            for (const auto& f : python) v.frames.push_back(python_frame_report(f));
        }
        // Python frames keep their order through the merge: the k-th is python[k].
        size_t k = 0;
        for (auto& f : v.frames)
            if (f.kind == FrameReport::Kind::Python && k < interpreters.size()) f.interpreter = interpreters[k++];
        v.status = thread_status(state, t, v.state);
        report.threads.push_back(std::move(v));
    }
    if (merge) {  // OS threads that never ran Python keep their native stacks
        for (const auto& os : os_threads) {
            bool known = false;
            for (const auto& t : state.threads) known = known || t.tid == os.tid;
            auto native = native_frames.find(os.tid);
            if (known || native == native_frames.end()) continue;
            PyThreadView v;
            v.tid = os.tid;
            v.name = os.name;
            v.state = os.state;
            v.status = "no Python thread state";
            v.frames = native->second;
            report.threads.push_back(std::move(v));
        }
    }
    return report;
}

namespace {

// One line for a process in its own PID namespace (a container): whose ids and files are shown.
void print_namespace_note(std::ostream& out, const PyReport& report) {
    std::string kind, pid, inside;
    for (const auto& [key, value] : report.target) {
        if (key == "kind") kind = value;
        if (key == "pid") pid = value;
        if (key == "namespace_pid") inside = value;
    }
    if (inside.empty()) return;
    if (kind == "core")
        out << "Process " << pid << " ran in its own PID namespace (a container; pid " << inside
            << " there): its files are the container's, given with --sysroot\n\n";
    else
        out << "Process " << pid << " runs in its own PID namespace (a container; pid " << inside
            << " there): thread ids are this machine's, files are read through /proc/" << pid << "/root\n\n";
}

// A free-threaded interpreter has no GIL holder: say which threads run Python instead.
void print_no_gil_line(std::ostream& out, const PyReport& report) {
    std::string attached;
    size_t n = 0;
    for (const auto& v : report.threads)
        if (v.python && v.python->attach_state == 1) attached += (n++ ? ", " : "") + std::to_string(v.tid);
    out << "Free-threaded CPython " << report.state->version << " without a GIL: " << n << " thread"
        << (n == 1 ? "" : "s") << " attached, running Python" << (n ? ": " + attached : "") << "\n\n";
}

// ", interpreter 1" (entered from 0)": said only where the process runs several interpreters.
std::string interpreter_text(const PyThreadView& v) {
    std::string text = ", interpreter " + std::to_string(v.python->interpreter_id);
    for (size_t i = 0; i < v.entered_from.size(); ++i)
        text += (i ? ", from " : " entered from ") + std::to_string(v.entered_from[i]->interpreter_id);
    return text;
}

bool several_interpreters(const PythonState& state) {
    for (const auto& t : state.threads)
        if (t.interpreter_id != state.threads.front().interpreter_id) return true;
    return false;
}

}  // namespace

void print_py_text(std::ostream& out, const PyReport& report, bool verbose, bool positions) {
    const PythonState& state = *report.state;
    bool interpreters = several_interpreters(state);
    print_namespace_note(out, report);
    if (verbose) {
        out << "Python " << state.version << " in " << state.module << " (found by " << state.found_by
            << "; layout from " << state.layout_source << ")\n\n";
    }
    if (state.gil_disabled) print_no_gil_line(out, report);
    bool first = true;
    for (const auto& v : report.threads) {
        if (!first) out << '\n';
        first = false;
        out << "Thread " << v.tid;
        if (!v.name.empty()) out << " \"" << v.name << "\"";
        if (v.python)
            out << " (" << v.status << ", thread id " << hex(v.python->thread_id)
                << (interpreters ? interpreter_text(v) : "") << ")";
        else out << " (" << v.status << ")";
        out << '\n';
        int64_t running = v.python ? v.python->interpreter_id : -1;
        std::map<std::string, std::string> shown;  // long value text → where it was first printed
        for (size_t i = 0; i < v.frames.size(); ++i) {
            const FrameReport& f = v.frames[i];
            if (f.kind == FrameReport::Kind::Python && f.interpreter >= 0 && f.interpreter != running) {
                out << "    -- entered from interpreter " << f.interpreter << " --\n";
                running = f.interpreter;
            }
            char head[48];
            if (f.kind == FrameReport::Kind::Python) {
                std::snprintf(head, sizeof head, "#%-2zu ", i);
                out << head << f.function << " (" << f.file;
                if (f.line > 0) out << ":" << f.line;
                if (positions && f.line > 0 && f.column >= 0)
                    out << ":" << f.column + 1 << "-" << (f.end_line > 0 ? f.end_line : f.line) << ":"
                        << (f.end_column >= 0 ? f.end_column + 1 : f.column + 1);
                out << ")";
            } else {
                std::snprintf(head, sizeof head, "#%-2zu 0x%016" PRIx64 " ", i, f.pc);
                out << head << "[native] " << (f.function.empty() ? "??" : f.function);
                if (!f.module.empty()) out << " (" << f.module.substr(f.module.rfind('/') + 1) << ")";
            }
            if (!f.note.empty()) out << "  " << f.note;
            out << '\n';
            for (const auto& [name, repr] : f.locals) {
                // A long value shown again (passed down a call chain) refers back to its first showing.
                if (repr.size() >= kLongValue) {
                    auto [earlier, fresh] = shown.emplace(repr, name + " in #" + std::to_string(i));
                    if (!fresh) {
                        out << "        " << name << " = <same as " << earlier->second << ", " << repr.size() << " characters>\n";
                        continue;
                    }
                }
                out << "        " << name << " = " << repr << '\n';
            }
        }
        if (v.frames.empty()) out << "    (no Python frames)\n";
        if (!v.error.empty()) out << "    (stack incomplete: " << v.error << ")\n";
        if (v.python && v.python->waiting_on) out << "    " << wait_text(report, *v.python->waiting_on) << '\n';
        if (v.python)
            for (const auto& line : held_texts(*v.python)) out << "    " << line << '\n';
        if (v.python && v.python->exception) {
            const auto& e = *v.python->exception;
            for (size_t i = 0; i < e.chain.size(); ++i) {
                out << "    " << (i == 0 ? e.state : "  " + std::string(e.chain[i].relation == "cause" ? "caused by" : "during handling of"))
                    << " " << e.chain[i].value << '\n';
            }
        }
    }
    for (const auto& w : report.warnings) out << "warning: " << w << '\n';
}

void print_py_json(std::ostream& out, const PyReport& report) {
    const PythonState& state = *report.state;
    json doc;
    json target = json::object();
    for (const auto& [key, value] : report.target) {
        bool number = !value.empty() && value.size() < 19 && value[0] != '0' &&
                      value.find_first_not_of("0123456789") == std::string::npos;
        target[key] = number ? json(std::stoll(value)) : json(value);
    }
    doc["target"] = std::move(target);
    doc["python"] = {{"version", state.version}, {"module", state.module}, {"found_by", state.found_by},
                     {"layout_source", state.layout_source}, {"gc_collecting", state.gc_collecting},
                     {"free_threaded", state.free_threaded}, {"gil_disabled", state.gil_disabled}};
    json threads = json::array();
    for (const auto& v : report.threads) {
        json t = {{"tid", v.tid}, {"name", v.name}, {"state", std::string(1, v.state ? v.state : '?')}};
        if (v.python) t["python"] = python_json(v);
        json frames = json::array();
        for (const auto& f : v.frames) frames.push_back(frame_json(f));
        t["frames"] = std::move(frames);
        if (!v.error.empty()) t["error"] = v.error;
        threads.push_back(std::move(t));
    }
    doc["threads"] = std::move(threads);
    doc["warnings"] = report.warnings;
    out << json_text(doc) << '\n';
}

}  // namespace snag::python
