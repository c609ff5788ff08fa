#include "python/task_report.hpp"

#include <cstdio>
#include <set>
#include <unordered_map>

#include "report/json_text.hpp"

namespace snag::python {
namespace {

using nlohmann::json;

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#lx", static_cast<unsigned long>(v));
    return buf;
}

const PyThread* loop_thread(const AsyncLoop& loop, const PythonState& threads) {
    if (!loop.thread_id) return nullptr;
    for (const auto& t : threads.threads)
        if (t.thread_id == loop.thread_id) return &t;
    return nullptr;
}

std::string loop_header(const AsyncLoop& loop, const PythonState& threads) {
    std::string out = "Event loop " + hex(loop.address);
    const PyThread* t = loop_thread(loop, threads);
    if (t) out += " on thread " + std::to_string(t->tid) + (t->name.empty() ? "" : " \"" + t->name + "\"");
    else if (loop.thread_id) out += " on thread id " + hex(loop.thread_id);
    else out += " (not running)";
    return out + " (" + std::to_string(loop.tasks.size()) + " task" + (loop.tasks.size() == 1 ? "" : "s") + ")";
}

std::string where(const PyFrame& f) {
    return f.function + " (" + f.file + (f.line > 0 ? ":" + std::to_string(f.line) : "") + ")";
}

// "awaits sleep", "awaits task 'b'", "running", "ready", "finished".
std::string status(const AsyncTask& t) {
    if (t.state != "pending") return t.state;
    if (t.kind == "running" || t.kind == "ready") return t.kind;
    std::string what = t.awaiting.empty() ? t.kind : t.awaiting;
    if ((t.kind == "gather" || t.kind == "taskgroup") && !t.awaits.empty())
        what += " of " + std::to_string(t.awaits.size()) + " task" + (t.awaits.size() == 1 ? "" : "s");
    return "awaits " + what;
}

class TreePrinter {
public:
    TreePrinter(std::ostream& out, const AsyncState& s) : out_(out), s_(s) {
        for (size_t i = 0; i < s.tasks.size(); ++i) index_[s.tasks[i].address] = i;
        for (const auto& c : s.cycles)
            for (uint64_t a : c) in_cycle_.insert(a);
    }

    void loop(const AsyncLoop& l) {
        // Roots are the tasks nothing awaits; tasks left over after them sit on cycles.
        for (size_t i : l.tasks)
            if (s_.tasks[i].awaited_by.empty()) task(i, "", true, {});
        for (size_t i : l.tasks)
            if (!shown_.count(s_.tasks[i].address)) task(i, "", true, {});
    }

private:
    void task(size_t i, const std::string& prefix, bool last, std::set<uint64_t> path) {
        const AsyncTask& t = s_.tasks[i];
        out_ << prefix << (last ? "└── " : "├── ") << "(T) " << t.name << "  [" << status(t) << "]";
        if (in_cycle_.count(t.address)) out_ << "  <- await cycle";
        std::string inner = prefix + (last ? "    " : "│   ");
        if (path.count(t.address)) {
            out_ << "  (cycle: awaited above)\n";
            return;
        }
        if (!shown_.insert(t.address).second) {
            out_ << "  (shown above)\n";
            return;
        }
        out_ << '\n';
        path.insert(t.address);
        // Frames outermost first, each one level deeper; awaited tasks hang under the innermost.
        for (size_t f = t.stack.size(); f-- > 0;) {
            out_ << inner << "└── " << where(t.stack[f]) << '\n';
            inner += "    ";
        }
        for (size_t k = 0; k < t.awaits.size(); ++k) {
            auto it = index_.find(t.awaits[k]);
            if (it != index_.end()) task(it->second, inner, k + 1 == t.awaits.size(), path);
        }
    }

    std::ostream& out_;
    const AsyncState& s_;
    std::unordered_map<uint64_t, size_t> index_;
    std::set<uint64_t> in_cycle_, shown_;
};

std::string names(const AsyncState& s, const std::vector<uint64_t>& addresses,
                  const std::unordered_map<uint64_t, size_t>& index) {
    std::string out;
    for (uint64_t a : addresses) {
        auto it = index.find(a);
        out += (out.empty() ? "" : ",") + (it != index.end() ? s.tasks[it->second].name : hex(a));
    }
    return out.empty() ? "-" : out;
}

json frame_json(const PyFrame& f) {
    return {{"function", f.function}, {"file", f.file}, {"line", f.line}, {"address", f.address}};
}

}  // namespace

void print_task_tree(std::ostream& out, const AsyncState& s, const PythonState& threads) {
    if (!s.asyncio_loaded) out << "asyncio is not imported: no tasks\n";
    else if (s.tasks.empty()) out << "asyncio: no tasks\n";
    TreePrinter printer(out, s);
    for (const auto& l : s.loops) {
        out << loop_header(l, threads) << '\n';
        printer.loop(l);
    }
    for (const auto& w : s.warnings) out << "warning: " << w << '\n';
}

void print_task_table(std::ostream& out, const AsyncState& s, const PythonState& threads) {
    std::unordered_map<uint64_t, size_t> index;
    for (size_t i = 0; i < s.tasks.size(); ++i) index[s.tasks[i].address] = i;
    if (!s.asyncio_loaded) out << "asyncio is not imported: no tasks\n";
    char line[512];
    std::snprintf(line, sizeof line, "%-16s %-20s %-8s %-9s %-32s %-20s %s\n", "ADDRESS", "NAME", "THREAD",
                  "STATE", "AWAITS", "AWAITED BY", "WHERE");
    if (!s.tasks.empty()) out << line;
    for (const auto& l : s.loops) {
        const PyThread* thread = loop_thread(l, threads);
        std::string tid = thread ? std::to_string(thread->tid) : "-";
        for (size_t i : l.tasks) {
            const AsyncTask& t = s.tasks[i];
            std::string state = t.running ? "running" : t.state;
            std::string awaits = status(t);
            if (awaits.starts_with("awaits ")) awaits = awaits.substr(7);
            if (awaits == state) awaits = "-";
            std::string where_text = t.stack.empty() ? "-" : where(t.stack.front());
            std::snprintf(line, sizeof line, "%-16s %-20s %-8s %-9s %-32s %-20s ", hex(t.address).c_str(),
                          t.name.c_str(), tid.c_str(), state.c_str(), awaits.c_str(),
                          names(s, t.awaited_by, index).c_str());
            out << line << where_text << '\n';
        }
    }
    for (const auto& c : s.cycles) out << "await cycle: " << names(s, c, index) << '\n';
    for (const auto& w : s.warnings) out << "warning: " << w << '\n';
}

json tasks_json(const AsyncState& s, const PythonState& threads) {
    json loops = json::array();
    for (const auto& l : s.loops) {
        const PyThread* thread = loop_thread(l, threads);
        json tasks = json::array();
        for (size_t i : l.tasks) {
            const AsyncTask& t = s.tasks[i];
            json frames = json::array();
            for (const auto& f : t.stack) frames.push_back(frame_json(f));
            json task = {{"address", t.address}, {"name", t.name}, {"type", t.type}, {"state", t.state},
                         {"running", t.running}, {"kind", t.kind}, {"awaiting", t.awaiting},
                         {"coroutine", t.coro}, {"frames", std::move(frames)},
                         {"awaits", t.awaits}, {"awaited_by", t.awaited_by}};
            if (t.waiter) task["waiter"] = {{"address", t.waiter}, {"type", t.waiter_type}};
            tasks.push_back(std::move(task));
        }
        json loop = {{"address", l.address}, {"thread_id", l.thread_id}, {"tasks", std::move(tasks)}};
        if (thread) {
            loop["tid"] = thread->tid;
            loop["thread_name"] = thread->name;
        }
        loops.push_back(std::move(loop));
    }
    json cycles = json::array();
    for (const auto& c : s.cycles) cycles.push_back(c);
    return {{"asyncio_loaded", s.asyncio_loaded}, {"task_count", s.tasks.size()},
            {"loops", std::move(loops)}, {"cycles", std::move(cycles)}, {"warnings", s.warnings}};
}

}  // namespace snag::python
