#include "triage/report_lines.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

namespace snag::triage {

using nlohmann::json;

constexpr size_t kStackLines = 10;


std::string when(int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &tm);
    return text;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? "-" : out;
}


std::vector<std::string> stack_lines(const std::string& stack_json) {
    std::vector<std::string> out;
    json frames = json::parse(stack_json, nullptr, false);
    if (!frames.is_array()) return out;
    for (const auto& f : frames) {
        if (out.size() == kStackLines) break;
        std::string fn = f.value("function", std::string("?"));
        if (fn.empty()) fn = "?";
        std::string file = f.value("file", std::string()), module = f.value("module", std::string());
        int64_t line = f.contains("line") && f["line"].is_number() ? f["line"].get<int64_t>() : 0;
        std::string at = file.empty() ? "" : file.substr(file.rfind('/') + 1) + (line > 0 ? ":" + std::to_string(line) : "");
        if (f.value("kind", std::string()) == "python" || module.empty())
            out.push_back(fn + (at.empty() ? "" : " (" + at + ")"));
        else
            out.push_back(module.substr(module.rfind('/') + 1) + "!" + fn + (at.empty() ? "" : " at " + at));
    }
    return out;
}

std::string headline(const BucketReport& r) {
    return r.store + ": " + std::to_string(r.counts.dumps) + " dumps (" + std::to_string(r.counts.analysed) +
           " analysed, " + std::to_string(r.counts.unreadable) + " unreadable, " +
           std::to_string(r.counts.dumps - r.counts.analysed - r.counts.unreadable - r.counts.claimed) + " failed" +
           (r.counts.claimed ? ", " + std::to_string(r.counts.claimed) + " being analysed" : "") + "), " +
           std::to_string(r.counts.buckets) + " buckets";
}

}  // namespace snag::triage
