// From what a worker exported for one dump (stdlib/snag/triage.lua) to the rows the store keeps:
// the dump's facts, each finding with its signature, and the dump's bucket (its first finding:
// the most severe, as `snag analyze` orders them).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "triage/dump_identity.hpp"
#include "triage/store.hpp"

namespace snag::triage {

struct DumpRecord {
    DumpFacts dump;
    std::vector<FindingFacts> findings;
    std::optional<BucketKey> bucket;
};

// An analysed dump from the worker's JSON; an error when the JSON is not the export's shape.
Expected<DumpRecord> analysed_record(const std::string& export_json, const DumpFile& file,
                                     const std::string& identity, const std::string& host);

// A dump that could not be analysed, with the reason ("unreadable": snag said the target
// cannot be read; "failed": the analysis crashed or timed out).
DumpRecord failed_record(const DumpFile& file, const std::string& identity, const std::string& host,
                         const std::string& state, const std::string& reason);

}  // namespace snag::triage
