// JSON form of a Stack Trace Collection: the "stacks" shape of architecture.md.
#include <charconv>

#include <nlohmann/json.hpp>

#include "report/json_text.hpp"
#include "report/stack_report.hpp"

namespace snag {
namespace {

using nlohmann::json;

// Target values are strings in the model; integers are written as JSON numbers.
json target_value(const std::string& value) {
    if (value.empty() || value.size() > 18 || (value.size() > 1 && value[0] == '0')) return value;
    int64_t number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec == std::errc() && end == value.data() + value.size()) return number;
    return value;
}

json optional_string(const std::string& value) { return value.empty() ? json(nullptr) : json(value); }

json frame_json(const FrameReport& frame) {
    json out;
    bool native = frame.kind == FrameReport::Kind::Native;
    out["kind"] = native ? "native" : "python";
    out["function"] = optional_string(frame.function);
    out["file"] = optional_string(frame.file);
    out["line"] = frame.line > 0 ? json(frame.line) : json(nullptr);
    if (native) {
        out["module"] = optional_string(frame.module);
        out["pc"] = frame.pc;
        out["offset"] = frame.offset;
        out["inlined"] = frame.inlined;
        if (frame.args) {
            json args = json::array();
            for (const auto& a : *frame.args) {
                json arg = {{"name", a.name}, {"value", a.value}};
                if (a.entry_value) arg["entry_value"] = *a.entry_value;
                args.push_back(std::move(arg));
            }
            out["args"] = std::move(args);
        }
    }
    if (!frame.note.empty()) out["note"] = frame.note;
    if (!frame.locals.empty()) {
        json locals = json::object();
        for (const auto& [name, repr] : frame.locals) locals[name] = repr;
        out["locals"] = std::move(locals);
    }
    return out;
}

json thread_json(const ThreadReport& thread) {
    json out;
    out["tid"] = thread.tid;
    out["name"] = thread.name;
    out["state"] = std::string(1, thread.state ? thread.state : '?');
    if (thread.cpu_user || thread.cpu_system)
        out["cpu"] = {{"user", thread.cpu_user.value_or(0)}, {"system", thread.cpu_system.value_or(0)}};
    if (thread.python) {
        const auto& py = *thread.python;
        out["python"] = {{"thread_id", py.thread_id},
                         {"gil", py.gil},
                         {"waiting_for_gil", py.waiting_for_gil},
                         {"gc", py.gc},
                         {"status", py.status}};
    }
    json frames = json::array();
    for (const auto& frame : thread.frames) frames.push_back(frame_json(frame));
    out["frames"] = std::move(frames);
    if (!thread.error.empty()) out["error"] = thread.error;
    return out;
}

}  // namespace

void print_stacks_json(std::ostream& out, const StackReport& report) {
    json doc;
    json target = json::object();
    for (const auto& [key, value] : report.target) target[key] = target_value(value);
    doc["target"] = std::move(target);
    json threads = json::array();
    for (const auto& thread : report.threads) threads.push_back(thread_json(thread));
    doc["threads"] = std::move(threads);
    doc["warnings"] = report.warnings;
    out << json_text(doc) << '\n';
}

}  // namespace snag
