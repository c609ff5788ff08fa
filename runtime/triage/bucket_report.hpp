// snag buckets' report of a store: text for terminals, JSON for scripts, Markdown for tickets, one HTML page to share.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "triage/store.hpp"

namespace snag::triage {

struct BucketReport {
    std::string store;
    StoreCounts counts;
    std::vector<BucketRow> buckets;
    std::vector<std::pair<std::string, std::string>> unreadable;   // path, reason
};

// format: "text", "json", "markdown" or "html".
std::string render_buckets(const BucketReport& report, const std::string& format);

}  // namespace snag::triage
