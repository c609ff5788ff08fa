#include "triage_common.hpp"

#include <unistd.h>

#include <climits>
#include <iostream>

namespace snag::cli {

Expected<std::unique_ptr<triage::Store>> open_store(Args& args) {
    std::string db = args.option("--db");
    return triage::Store::open(db.empty() ? triage::default_store_path() : db);
}

int analyse_for_triage(const std::string& path) {
    auto json = analyze_core_export(path, "require('snag.triage').export()");
    if (!json) return report(json.error());
    std::cout << *json << "\n";
    return 0;
}

Expected<long> int_option(Args& args, const std::string& name, long fallback, long lo, long hi) {
    std::string text = args.option(name);
    if (text.empty()) return fallback;
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end || v < lo || v > hi)
        return fail(name + " must be a number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                    text);
    return v;
}

std::string host_name(Args& args) {
    std::string host = args.option("--host");
    if (!host.empty()) return host;
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "";
    return name;
}

}  // namespace snag::cli
