// snag collect PID SIGNAL COMM: the kernel's core_pattern pipe handler. The core arrives on
// stdin; it is kept compressed in the spool (within limits) and triaged into the store at once.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "subcommands.hpp"
#include "triage/collect.hpp"
#include "triage/triage_run.hpp"
#include "triage_common.hpp"

namespace snag::cli {

namespace {

constexpr const char* kUsage =
    "usage: snag collect PID SIGNAL COMM [--spool DIR] [--db FILE] [--max-size MB] [--max-per-hour N]\n"
    "                    [--max-spool MB] [--host NAME]\n"
    "Reads a core on stdin, as the kernel gives it to a core_pattern pipe handler:\n"
    "  echo '|/usr/local/bin/snag collect %P %s %e --spool /var/spool/snag' > /proc/sys/kernel/core_pattern\n"
    "keeps it as SPOOL/COMM.PID.TIME.core.zst and stores its findings and bucket (snag buckets shows them).\n"
    "--spool: default /var/spool/snag. --db: default $SNAG_TRIAGE_DB, else SPOOL/triage.db.\n"
    "Limits (a crash loop cannot fill the disk): --max-size MB per core (default 4096), --max-per-hour N\n"
    "cores (default 20), --max-spool MB for the spool's files (default 8192). A core over a limit is not\n"
    "kept; SPOOL/.collect.log says why. Exit status: 0 kept or refused by a limit, 2 error.\n";

// COMM as the kernel gives it may hold any byte but '/': keep a file name's safe characters.
std::string safe_name(const std::string& text) {
    std::string out;
    for (char c : text) out += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
    return out.empty() || out[0] == '.' ? "_" + out : out;
}

void log_line(const std::string& spool, const std::string& line) {
    std::ofstream log(spool + "/.collect.log", std::ios::app);
    std::time_t now = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    log << when << " " << line << "\n";
    std::cerr << "snag collect: " << line << "\n";
}

}  // namespace

int cmd_collect(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << kUsage;
        return 0;
    }
    std::string spool = args.option("--spool", "/var/spool/snag");
    std::string db = args.option("--db");
    auto max_size = int_option(args, "--max-size", 4096, 1, 1 << 24);
    auto per_hour = int_option(args, "--max-per-hour", 20, 1, 1 << 20);
    auto max_spool = int_option(args, "--max-spool", 8192, 1, 1 << 30);
    for (const auto& bad : {max_size, per_hour, max_spool})
        if (!bad) return report(bad.error());
    std::string host = host_name(args);
    const auto& rest = args.rest();
    if (rest.size() != 3 || rest[0].find_first_not_of("0123456789") != std::string::npos)
        return report(Error{"snag collect needs PID SIGNAL COMM (core_pattern's %P %s %e); see snag collect --help", 2});
    if (isatty(STDIN_FILENO)) return report(Error{"snag collect reads a core on stdin, not from a terminal", 2});
    std::string name = safe_name(rest[2]) + "." + rest[0] + "." + std::to_string(std::time(nullptr));
    triage::CollectLimits limits{*max_size << 20, static_cast<int>(*per_hour), *max_spool << 20};
    auto kept = triage::collect_core(STDIN_FILENO, spool, name, limits);
    if (!kept) {
        log_line(spool, name + ": " + kept.error().message);
        return report(kept.error());
    }
    if (!kept->refused.empty()) {
        log_line(spool, name + " (signal " + rest[1] + "): not kept: " + kept->refused);
        return 0;
    }
    if (db.empty()) {
        const char* env = std::getenv("SNAG_TRIAGE_DB");
        db = env && *env ? env : spool + "/triage.db";
    }
    auto store = triage::Store::open(db);
    if (!store) {
        log_line(spool, name + ": kept, not triaged: " + store.error().message);
        return report(store.error());
    }
    auto summary = triage::triage_dumps(**store, {kept->path}, triage::TriageOptions{1, 300, host},
                                        analyse_for_triage, {});
    if (!summary) {
        log_line(spool, name + ": kept, not triaged: " + summary.error().message);
        return report(summary.error());
    }
    std::string bucket = summary->bucket_hits.empty() ? "no finding" : summary->bucket_hits.begin()->first;
    if (!summary->problems.empty()) bucket = "not analysed: " + summary->problems.front().second;
    log_line(spool, name + " (signal " + rest[1] + "): kept " + kept->path + " (" +
                        std::to_string(kept->bytes_in >> 20) + " MiB core), " + bucket);
    return 0;
}

}  // namespace snag::cli
