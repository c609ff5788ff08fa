#include "triage/triage_run.hpp"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>

#include "triage/batch.hpp"
#include "triage/dump_identity.hpp"
#include "triage/dump_record.hpp"

namespace snag::triage {
namespace {

struct Pending {
    DumpFile file;
    std::string identity;
};

// The last "snag: ..." line a worker wrote: why the dump could not be read.
std::string reason_of(const std::string& err) {
    std::string last;
    size_t start = 0;
    while (start < err.size()) {
        size_t end = err.find('\n', start);
        std::string line = err.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (line.starts_with("snag: ")) last = line.substr(6);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return last.empty() ? "snag could not read it (no reason given)" : last;
}

DumpRecord record_of(const JobResult& job, const Pending& p, const TriageOptions& options) {
    if (job.timed_out)
        return failed_record(p.file, p.identity, options.host, "failed",
                             "the analysis took longer than " + std::to_string(int(options.timeout_seconds)) + " s");
    if (job.signal)
        return failed_record(p.file, p.identity, options.host, "failed",
                             std::string("the analysis crashed (") + sigabbrev_np(job.signal) + ")");
    if (job.exit_code != 0) return failed_record(p.file, p.identity, options.host, "unreadable", reason_of(job.err));
    auto record = analysed_record(job.out, p.file, p.identity, options.host);
    if (!record) return failed_record(p.file, p.identity, options.host, "failed", record.error().message);
    return std::move(*record);
}

}  // namespace

Expected<std::vector<std::string>> dump_files(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& arg : args) {
        std::error_code ec;
        if (!std::filesystem::is_directory(arg, ec)) {
            out.push_back(arg);
            continue;
        }
        std::vector<std::string> found;
        for (auto it = std::filesystem::recursive_directory_iterator(arg, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            std::string name = it->path().filename().string();
            if (name.starts_with(".")) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            // A store kept in the spool (snag collect's default) is no dump.
            bool store_file = name.ends_with(".db") || name.ends_with(".db-wal") || name.ends_with(".db-shm") ||
                              name.ends_with(".db-journal");
            if (it->is_regular_file() && !store_file) found.push_back(it->path().string());
        }
        if (ec) return fail("cannot list " + arg + ": " + ec.message());
        std::sort(found.begin(), found.end());
        out.insert(out.end(), found.begin(), found.end());
    }
    return out;
}

Expected<TriageSummary> triage_dumps(Store& store, const std::vector<std::string>& files, const TriageOptions& options,
                                     const Analyse& analyse,
                                     const std::function<void(const TriageProgress&)>& progress) {
    auto started = std::chrono::steady_clock::now();
    TriageSummary summary;
    summary.files = files.size();
    std::vector<Pending> pending;
    std::set<std::string> identities;
    // A claim older than this was left by a worker that died (it would have timed out by now).
    int64_t stale_before = static_cast<int64_t>(std::time(nullptr)) - static_cast<int64_t>(options.timeout_seconds) - 60;
    for (const auto& path : files) {
        auto file = stat_dump(path);
        if (!file) return std::unexpected(file.error());
        auto known = store.find_by_file(file->path, file->size, file->mtime_ns, stale_before);
        if (!known) return std::unexpected(known.error());
        if (*known) {
            ++summary.already_stored;
            continue;
        }
        std::string identity = content_identity(*file);
        auto copy = store.find_by_identity(identity, stale_before);
        if (!copy) return std::unexpected(copy.error());
        if (*copy || (!identity.empty() && !identities.insert(identity).second)) {
            ++summary.copies;
            continue;
        }
        pending.push_back(Pending{*file, identity});
    }
    TriageProgress shown{pending.size(), 0, 0, 0};
    if (progress) progress(shown);
    std::optional<Error> store_error;
    std::vector<int64_t> claims(pending.size(), 0);
    // Each dump is claimed in the store just before its worker starts: runs on other hosts
    // sharing the store skip it, and this one skips what they took.
    auto take = [&](size_t i) {
        DumpRecord r = failed_record(pending[i].file, pending[i].identity, options.host, "claimed", "");
        auto id = store.claim(r.dump, stale_before);
        if (!id && !store_error) store_error = id.error();
        if (id && *id) {
            claims[i] = **id;
            return true;
        }
        if (id) ++summary.elsewhere;
        --shown.total;
        if (progress) progress(shown);
        return false;
    };
    run_batch(pending.size(), BatchOptions{options.parallel, options.timeout_seconds},
              [&](size_t i) { return analyse(pending[i].file.path); },
              [&](JobResult&& job) {
                  DumpRecord r = record_of(job, pending[job.index], options);
                  if (r.dump.state == "analysed") ++summary.analysed;
                  else if (r.dump.state == "unreadable") ++summary.unreadable;
                  else ++summary.failed;
                  if (r.dump.state != "analysed") summary.problems.emplace_back(r.dump.path, r.dump.reason);
                  auto stored = store.complete(claims[job.index], r.dump, r.findings, r.bucket);
                  if (!stored && !store_error) store_error = stored.error();
                  else if (stored && *stored && r.bucket) ++summary.bucket_hits[r.bucket->key];
                  ++shown.done;
                  if (r.dump.state != "analysed") ++shown.failed;
                  shown.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                  if (progress) progress(shown);
              },
              take);
    if (store_error) return std::unexpected(*store_error);
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return summary;
}

}  // namespace snag::triage
