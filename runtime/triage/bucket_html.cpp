#include "triage/bucket_html.hpp"

#include "triage/report_lines.hpp"

namespace snag::triage {
namespace {

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;"
    "vertical-align:top}th{background:#eee}td.sig{font-family:monospace;font-size:.85em;word-break:break-all}"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;overflow-x:auto}"
    ".critical{color:#b00;font-weight:bold}.error{color:#c50}.warning{color:#960}";

// Every text from the store goes through here: frame names hold '<' and '&' (operator<<, templates).
std::string escaped(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string cell(const std::string& s, const std::string& cls = "") {
    return (cls.empty() ? "<td>" : "<td class=\"" + escaped(cls) + "\">") + escaped(s) + "</td>";
}

std::string bucket_table(const BucketReport& r) {
    std::string out = "<table id=\"buckets\">\n<thead><tr><th>#</th><th>dumps</th><th>rule</th><th>severity</th>"
                      "<th>first seen</th><th>last seen</th><th>hosts</th><th>builds</th><th>signature</th></tr></thead>\n<tbody>\n";
    int n = 0;
    for (const auto& b : r.buckets) {
        ++n;
        out += "<tr class=\"bucket\"><td><a href=\"#b" + std::to_string(n) + "\">" + std::to_string(n) + "</a></td>" +
               cell(std::to_string(b.count), "count") + cell(b.rule, "rule") + cell(b.severity, b.severity) +
               cell(when(b.first_seen)) + cell(when(b.last_seen)) + cell(joined(b.hosts)) + cell(joined(b.builds)) +
               cell(b.signature, "sig") + "</tr>\n";
    }
    return out + "</tbody>\n</table>\n";
}

std::string examples(const BucketReport& r) {
    std::string out;
    int n = 0;
    for (const auto& b : r.buckets) {
        ++n;
        out += "<section class=\"example\" id=\"b" + std::to_string(n) + "\">\n<h3>#" + std::to_string(n) + " " +
               escaped(b.rule) + " (" + std::to_string(b.count) + ")</h3>\n<p>bucket <code>" + escaped(b.key) +
               "</code>, example <code>" + escaped(b.example_path) + "</code></p>\n<pre class=\"stack\">";
        for (const auto& line : stack_lines(b.example_stack_json)) out += escaped(line) + "\n";
        out += "</pre>\n</section>\n";
    }
    return out;
}

}  // namespace

std::string bucket_html(const BucketReport& r) {
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>snag buckets: " +
                      escaped(r.store) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>Buckets</h1>\n" +
                      "<p id=\"summary\">" + escaped(headline(r)) + "</p>\n" + bucket_table(r) +
                      "<h2>Example stacks</h2>\n" + examples(r);
    if (!r.unreadable.empty()) {
        out += "<h2>Unreadable dumps</h2>\n<ul id=\"unreadable\">\n";
        for (const auto& [path, why] : r.unreadable)
            out += "<li><code>" + escaped(path) + "</code>: " + escaped(why) + "</li>\n";
        out += "</ul>\n";
    }
    return out + "</body>\n</html>\n";
}

}  // namespace snag::triage
