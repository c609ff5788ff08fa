#include "triage/dump_record.hpp"

#include <nlohmann/json.hpp>

#include "report/json_text.hpp"
#include "triage/signature.hpp"

namespace snag::triage {
namespace {

using nlohmann::json;

std::string text_of(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::vector<SigFrame> frames_of(const json& list, bool python) {
    std::vector<SigFrame> out;
    if (!list.is_array()) return out;
    for (const auto& f : list) {
        bool py = python || text_of(f, "kind") == "python";
        auto line = f.find("line");
        out.push_back(SigFrame{py, text_of(f, "function"), text_of(f, "file"), text_of(f, "module"),
                               line != f.end() && line->is_number() ? line->get<int64_t>() : 0});
    }
    return out;
}

// The finding's subject threads, in the order the finding names them.
std::vector<SigThread> subject_of(const json& finding, const json& stacks) {
    std::vector<SigThread> out;
    auto threads = finding.find("threads");
    if (threads == finding.end() || !threads->is_array()) return out;
    for (const auto& tid : *threads) {
        auto it = stacks.find(tid.is_number() ? std::to_string(tid.get<int64_t>()) : tid.dump());
        if (it == stacks.end()) continue;
        out.push_back(SigThread{frames_of(it->value("native", json::array()), false),
                                frames_of(it->value("python", json::array()), true)});
    }
    return out;
}

json frame_json(const SigFrame& f) {
    return {{"kind", f.python ? "python" : "native"}, {"function", f.function}, {"file", f.file},
            {"module", f.module}, {"line", f.line}};
}

// A few frames for the report: the first subject thread's native frames down to the interpreter,
// then its Python frames (a native thread: its native frames).
std::string example_stack(const std::vector<SigThread>& subject, const json& finding) {
    json out = json::array();
    if (!subject.empty()) {
        const auto& t = subject.front();
        for (const auto& f : t.native) {
            if (!t.python.empty() && interpreter_frame(f)) break;
            if (out.size() < 12) out.push_back(frame_json(f));
        }
        for (const auto& f : t.python)
            if (out.size() < 16) out.push_back(frame_json(f));
    } else if (finding.contains("frames") && finding["frames"].is_array()) {
        out = finding["frames"];
    }
    return json_text(out, -1);
}

}  // namespace

Expected<DumpRecord> analysed_record(const std::string& export_json, const DumpFile& file,
                                     const std::string& identity, const std::string& host) {
    json doc = json::parse(export_json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("result"))
        return fail("the analysis of " + file.path + " gave no result");
    const json& result = doc["result"];
    const json target = result.value("target", json::object());
    const json stacks = doc.value("stacks", json::object());
    DumpRecord r;
    r.dump = failed_record(file, identity, host, "analysed", "").dump;
    r.dump.exe = text_of(target, "executable");
    r.dump.python = text_of(target, "python");
    r.dump.pid = target.value("pid", json(0)).is_number() ? target["pid"].get<int64_t>() : 0;
    r.dump.signal = text_of(doc, "signal");
    json modules = doc.value("modules", json::array());
    if (!modules.is_array()) modules = json::array();
    r.dump.build_ids_json = json_text(modules, -1);
    for (const auto& m : modules)
        if (text_of(m, "module") == r.dump.exe) r.dump.build_id = text_of(m, "build_id");
    const json findings = result.value("findings", json::array());
    if (!findings.is_array()) return r;
    for (const auto& f : findings) {
        std::string rule = text_of(f, "rule");
        auto subject = subject_of(f, stacks);
        std::string own = f.value("bucket_from_rule", false) ? text_of(f, "bucket") : "";
        auto sig = signature_of(rule, subject, frames_of(f.value("frames", json::array()), false), own);
        r.findings.push_back(FindingFacts{rule, text_of(f, "severity"), text_of(f, "title"), text_of(f, "message"),
                                          sig.key, sig.text, json_text(f.value("evidence", json::object()), -1),
                                          json_text(f.value("frames", json::array()), -1)});
        if (!r.bucket) r.bucket = BucketKey{sig.key, rule, sig.text, example_stack(subject, f)};
    }
    return r;
}

DumpRecord failed_record(const DumpFile& file, const std::string& identity, const std::string& host,
                         const std::string& state, const std::string& reason) {
    DumpRecord r;
    r.dump.path = file.path;
    r.dump.size = file.size;
    r.dump.mtime_ns = file.mtime_ns;
    r.dump.notes_hash = identity;
    r.dump.host = host;
    r.dump.dumped_at = file.mtime_ns / 1'000'000'000;
    r.dump.state = state;
    r.dump.reason = reason;
    return r;
}

}  // namespace snag::triage
