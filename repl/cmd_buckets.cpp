// snag buckets: the store's buckets, the most frequent first (docs/triage.md).
#include <iostream>

#include "subcommands.hpp"
#include "triage/bucket_report.hpp"
#include "triage_common.hpp"

namespace snag::cli {

namespace {
constexpr const char* kUsage =
    "usage: snag buckets [--db FILE] [--format text|json|markdown|html]\n"
    "The buckets of the triage store (snag triage, snag collect), the most frequent first: dumps,\n"
    "first and last seen, hosts and builds, the signature and one example stack; then the unreadable dumps.\n";
}

int cmd_buckets(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << kUsage;
        return 0;
    }
    std::string format = args.option("--format", "text");
    if (format != "text" && format != "json" && format != "markdown" && format != "html")
        return report(Error{"--format must be text, json, markdown or html, not " + format, 2});
    std::string db = args.option("--db");
    if (!args.rest().empty()) return report(Error{"unexpected argument " + args.rest().front() + " (snag buckets --help)", 2});
    auto store = triage::Store::open(db.empty() ? triage::default_store_path() : db);
    if (!store) return report(store.error());
    triage::BucketReport r{(*store)->describe(), {}, {}, {}};
    auto counts = (*store)->counts();
    auto buckets = (*store)->buckets();
    auto unreadable = (*store)->unreadable();
    if (!counts) return report(counts.error());
    if (!buckets) return report(buckets.error());
    if (!unreadable) return report(unreadable.error());
    r.counts = *counts;
    r.buckets = std::move(*buckets);
    r.unreadable = std::move(*unreadable);
    std::cout << triage::render_buckets(r, format);
    return 0;
}

}  // namespace snag::cli
