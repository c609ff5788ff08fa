// snag dump PID -o FILE: an ELF core of a live process, stopped only while its memory is copied.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "cli.hpp"
#include "dump/dump.hpp"
#include "subcommands.hpp"

namespace snag::cli {
namespace {

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

int cmd_dump(Args& args) {
    DumpOptions options;
    options.output = args.option("-o", args.option("--output"));
    options.holes = !args.flag("--no-holes");
    bool stats = args.flag("--stats");
    std::string window = args.option("--cpu-sample");
    if (!window.empty()) {
        char* end = nullptr;
        options.cpu_sample_seconds = std::strtod(window.c_str(), &end);
        if (*end || options.cpu_sample_seconds < 0 || options.cpu_sample_seconds > 60)
            return report(Error{"--cpu-sample takes seconds between 0 and 60, not " + window});
    }
    for (const auto& word : args.rest())
        if (word.size() > 1 && word[0] == '-') return report(Error{"unknown option " + word + " for snag dump"});
    if (args.rest().empty()) return report(Error{"usage: snag dump PID -o FILE"});
    if (args.rest().size() > 1) return report(Error{"unexpected argument " + args.rest()[1]});
    const std::string& pid = args.rest()[0];
    if (!all_digits(pid)) return report(Error{"snag dump needs a process ID, not " + pid});
    if (options.output.empty()) return report(Error{"missing output file: snag dump " + pid + " -o FILE"});

    auto written = write_core(std::atoi(pid.c_str()), options);
    if (!written) return report(written.error());
    std::fprintf(stderr, "snag: wrote %s (%zu threads, %.1f MiB, target stopped %.1f ms)\n", options.output.c_str(),
                 written->threads, double(written->bytes_written) / (1 << 20), written->stopped_seconds * 1e3);
    if (stats)
        std::fprintf(stderr,
                     "snag: stopped %.1f ms = attach %.1f ms + plan %.1f ms + copy %.1f ms + detach; "
                     "write after resume %.1f ms; file %.1f MiB apparent, %zu segments\n",
                     written->stopped_seconds * 1e3, written->attach_seconds * 1e3,
                     (written->stopped_seconds - written->attach_seconds - written->copy_seconds) * 1e3,
                     written->copy_seconds * 1e3, written->write_seconds * 1e3,
                     double(written->file_size) / (1 << 20), written->segments);
    return 0;
}

}  // namespace snag::cli
