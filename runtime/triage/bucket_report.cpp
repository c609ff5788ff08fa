#include "triage/bucket_report.hpp"

#include <nlohmann/json.hpp>

#include "report/json_text.hpp"
#include "triage/bucket_html.hpp"
#include "triage/report_lines.hpp"

namespace snag::triage {
namespace {

using nlohmann::json;

std::string text(const BucketReport& r) {
    std::string out = headline(r) + "\n";
    int n = 0;
    for (const auto& b : r.buckets) {
        out += "\n#" + std::to_string(++n) + "  " + std::to_string(b.count) + (b.count == 1 ? " dump" : " dumps") +
               "  " + b.rule + (b.severity.empty() ? "" : " (" + b.severity + ")") + "  first " +
               when(b.first_seen) + "  last " + when(b.last_seen) + "\n";
        out += "    signature: " + b.signature + "\n";
        out += "    bucket: " + b.key + "\n";
        out += "    hosts: " + joined(b.hosts) + "\n    builds: " + joined(b.builds) + "\n";
        out += "    example: " + b.example_path + "\n";
        for (const auto& line : stack_lines(b.example_stack_json)) out += "      " + line + "\n";
    }
    if (!r.unreadable.empty()) {
        out += "\nunreadable:\n";
        for (const auto& [path, why] : r.unreadable) out += "  " + path + ": " + why + "\n";
    }
    return out;
}

std::string markdown(const BucketReport& r) {
    std::string out = "## Buckets\n\n" + headline(r) + "\n\n| # | dumps | rule | first seen | last seen | hosts | signature |\n"
                      "|---|---|---|---|---|---|---|\n";
    int n = 0;
    for (const auto& b : r.buckets) {
        std::string sig = b.signature;
        for (size_t at = 0; (at = sig.find('|', at)) != std::string::npos; at += 2) sig.replace(at, 1, "\\|");
        out += "| " + std::to_string(++n) + " | " + std::to_string(b.count) + " | " + b.rule + " | " + when(b.first_seen) +
               " | " + when(b.last_seen) + " | " + joined(b.hosts) + " | `" + sig + "` |\n";
    }
    n = 0;
    for (const auto& b : r.buckets) {
        out += "\n### #" + std::to_string(++n) + " " + b.rule + " (" + std::to_string(b.count) + ")\n\n";
        out += "- builds: " + joined(b.builds) + "\n- example: `" + b.example_path + "`\n\n```\n";
        for (const auto& line : stack_lines(b.example_stack_json)) out += line + "\n";
        out += "```\n";
    }
    if (!r.unreadable.empty()) {
        out += "\n### Unreadable dumps\n\n";
        for (const auto& [path, why] : r.unreadable) out += "- `" + path + "`: " + why + "\n";
    }
    return out;
}

std::string as_json(const BucketReport& r) {
    json doc = {{"store", r.store},
                {"counts", {{"dumps", r.counts.dumps}, {"analysed", r.counts.analysed},
                            {"unreadable", r.counts.unreadable}, {"buckets", r.counts.buckets}}},
                {"buckets", json::array()}, {"unreadable", json::array()}};
    for (const auto& b : r.buckets) {
        json stack = json::parse(b.example_stack_json, nullptr, false);
        doc["buckets"].push_back({{"key", b.key}, {"rule", b.rule}, {"severity", b.severity},
                                  {"signature", b.signature}, {"count", b.count}, {"first_seen", b.first_seen},
                                  {"last_seen", b.last_seen}, {"hosts", b.hosts}, {"builds", b.builds},
                                  {"example", {{"dump", b.example_dump}, {"path", b.example_path},
                                               {"stack", stack.is_discarded() ? json::array() : stack}}}});
    }
    for (const auto& [path, why] : r.unreadable) doc["unreadable"].push_back({{"path", path}, {"reason", why}});
    return json_text(doc) + "\n";
}

}  // namespace

std::string render_buckets(const BucketReport& report, const std::string& format) {
    if (format == "json") return as_json(report);
    if (format == "markdown") return markdown(report);
    if (format == "html") return bucket_html(report);
    return text(report);
}

}  // namespace snag::triage
