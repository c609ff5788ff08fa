// snag triage's batch: which files are dumps not yet stored, each analysed in a worker process,
// each result (or the reason it has none) stored as it arrives.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "triage/store.hpp"

namespace snag::triage {

struct TriageOptions {
    int parallel = 1;
    double timeout_seconds = 300;
    std::string host;
};

struct TriageProgress {
    size_t total = 0, done = 0, failed = 0;
    double seconds = 0;
};

struct TriageSummary {
    size_t files = 0, analysed = 0, unreadable = 0, failed = 0, already_stored = 0, copies = 0;
    size_t elsewhere = 0;   // taken by another run sharing the store while this one ran
    std::map<std::string, size_t> bucket_hits;   // bucket key -> dumps of this run in it
    std::vector<std::pair<std::string, std::string>> problems;   // path, why it was not analysed
    double seconds = 0;
};

// Runs in the worker for one dump: prints the export JSON on stdout and returns 0, or prints
// "snag: why" on stderr and returns 2.
using Analyse = std::function<int(const std::string& path)>;

// Files named on the command line: files as given, directories walked (hidden files and SQLite
// stores, *.db*, skipped).
Expected<std::vector<std::string>> dump_files(const std::vector<std::string>& args);

Expected<TriageSummary> triage_dumps(Store& store, const std::vector<std::string>& files, const TriageOptions& options,
                                     const Analyse& analyse,
                                     const std::function<void(const TriageProgress&)>& progress);

}  // namespace snag::triage
