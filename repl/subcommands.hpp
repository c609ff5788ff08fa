// Entry points of the CLI subcommands, one file each (repl/cmd_<name>.cpp).
#pragma once

#include "cli.hpp"

namespace snag::cli {
#define SNAG_SUBCOMMAND(name, fn, usage) int fn(Args& args);
#include "subcommands.def"
#undef SNAG_SUBCOMMAND
}  // namespace snag::cli
