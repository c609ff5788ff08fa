// snag triage CORE...|DIR...: the rules pack on every dump not yet in the store, in worker
// processes, each dump stored with its findings and its bucket (docs/triage.md).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "subcommands.hpp"
#include "triage/triage_run.hpp"
#include "triage_common.hpp"

namespace snag::cli {

namespace {

constexpr const char* kUsage =
    "usage: snag triage CORE...|DIR... [--db FILE] [-j N] [--timeout S] [--host NAME]\n"
    "Runs the default rules pack on every core (plain, zstd or gzip; a DIR is walked) not yet in the\n"
    "store, N at once (default: the machine's cores), and stores each dump, its findings and its bucket.\n"
    "A dump already stored (same path, size and mtime, or a copy of one) is skipped; one that cannot be\n"
    "read is stored as unreadable with the reason. snag buckets shows the result.\n"
    "--db: the store (default $SNAG_TRIAGE_DB, else $XDG_DATA_HOME/snag/triage.db).\n"
    "--timeout: seconds one dump may take (default 300). --host: the host the dumps come from.\n"
    "Exit status: 0 done (whatever the dumps held), 2 usage or store error.\n";

std::string rate(double count, double seconds) {
    char text[64];
    std::snprintf(text, sizeof text, "%.0f dumps/min", seconds > 0 ? count * 60 / seconds : 0.0);
    return text;
}

void show_progress(const triage::TriageProgress& p) {
    if (p.total == 0) return;
    double left = p.done ? p.seconds / p.done * (p.total - p.done) : 0;
    std::fprintf(stderr, "\r\033[Ksnag triage: %zu/%zu done, %zu not analysed, %s, %.0f s left", p.done, p.total,
                 p.failed, rate(p.done, p.seconds).c_str(), left);
    if (p.done == p.total) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
}

void print_summary(const triage::TriageSummary& s, triage::Store& store) {
    size_t ran = s.analysed + s.unreadable + s.failed;
    std::printf("snag triage: %zu files: %zu analysed, %zu unreadable, %zu failed, %zu already stored, %zu copies "
                "of stored dumps%s (%.1f s, %s)\n",
                s.files, s.analysed, s.unreadable, s.failed, s.already_stored, s.copies,
                s.elsewhere ? (", " + std::to_string(s.elsewhere) + " taken by another run").c_str() : "", s.seconds,
                rate(ran, s.seconds).c_str());
    auto buckets = store.buckets();
    auto counts = store.counts();
    if (buckets && counts) {
        std::printf("store: %s (%lld dumps, %lld buckets)\n", store.describe().c_str(),
                    static_cast<long long>(counts->dumps), static_cast<long long>(counts->buckets));
        for (const auto& b : *buckets) {
            auto hit = s.bucket_hits.find(b.key);
            if (hit == s.bucket_hits.end()) continue;
            std::printf("  %4zu  %s%s\n", hit->second, b.signature.c_str(),
                        static_cast<int64_t>(hit->second) == b.count ? "  (new)" : "");
        }
    }
    for (const auto& [path, why] : s.problems) std::printf("  not analysed: %s: %s\n", path.c_str(), why.c_str());
}

}  // namespace

int cmd_triage(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << kUsage;
        return 0;
    }
    long cores = std::max(1u, std::thread::hardware_concurrency());
    auto parallel = int_option(args, "-j", cores, 1, 256);
    if (!parallel) return report(parallel.error());
    auto timeout = int_option(args, "--timeout", 300, 1, 86400);
    if (!timeout) return report(timeout.error());
    triage::TriageOptions options{static_cast<int>(*parallel), static_cast<double>(*timeout), host_name(args)};
    auto store = open_store(args);
    if (!store) return report(store.error());
    for (const auto& word : args.rest())
        if (word.starts_with("-")) return report(Error{"unknown option " + word + " (snag triage --help)", 2});
    if (args.rest().empty()) return report(Error{"snag triage needs cores or directories of cores", 2});
    auto files = triage::dump_files(args.rest());
    if (!files) return report(files.error());
    bool tty = isatty(STDERR_FILENO);
    auto summary = triage::triage_dumps(**store, *files, options, analyse_for_triage,
                                        tty ? show_progress : std::function<void(const triage::TriageProgress&)>{});
    if (!summary) return report(summary.error());
    print_summary(*summary, **store);
    return 0;
}

}  // namespace snag::cli
