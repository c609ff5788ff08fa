// snag: a rule-driven diagnostic debugger. This file only dispatches subcommands.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli.hpp"
#include "subcommands.hpp"

namespace {

struct Subcommand {
    const char* name;
    int (*run)(snag::cli::Args&);
    const char* usage;
};

const Subcommand kSubcommands[] = {
#define SNAG_SUBCOMMAND(name, fn, usage) {name, snag::cli::fn, usage},
#include "subcommands.def"
#undef SNAG_SUBCOMMAND
};

void usage(FILE* out) {
    std::fprintf(out, "usage: snag SUBCOMMAND ...\n\n");
    for (const auto& sub : kSubcommands) std::fprintf(out, "  snag %s\n", sub.usage);
    std::fprintf(out, "\nTARGET is a PID (all digits) or a core file [--exe PATH] [--sysroot DIR]\n"
                      "[--allow-truncated] (a core cut short: read what is there, with a warning).\n");
}

// The last line of defence of the exit-code contract: a size read from a damaged target that
// slipped past every bound ends as one sentence and exit 2, never as an abort (exit 134).
// Unwinding runs the targets' destructors, so a live process is detached before snag exits.
int run_guarded(const Subcommand& sub, snag::cli::Args& args) {
    try {
        return sub.run(args);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "snag: out of memory in '%s': a size read from the target is probably damaged\n",
                     sub.name);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "snag: '%s' stopped on an unexpected error (the target may be damaged): %s\n",
                     sub.name, e.what());
    } catch (...) {
        std::fprintf(stderr, "snag: '%s' stopped on an unexpected error (the target may be damaged)\n", sub.name);
    }
    std::fflush(stdout);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("snag %s\n", SNAG_VERSION);
        return 0;
    }
    snag::cli::install_exit_handlers();
    for (const auto& sub : kSubcommands) {
        if (argv[1] == std::string(sub.name)) {
            snag::cli::Args args(std::vector<std::string>(argv + 2, argv + argc));
            return run_guarded(sub, args);
        }
    }
    std::fprintf(stderr, "snag: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
