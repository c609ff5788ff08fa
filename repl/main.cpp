// snag: a rule-driven diagnostic debugger. This file only dispatches subcommands.
#include <cstdio>
#include <cstring>
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
    std::fprintf(out, "\nTARGET is a PID (all digits) or a core file [--exe PATH] [--sysroot DIR].\n");
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
            return sub.run(args);
        }
    }
    std::fprintf(stderr, "snag: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
