// Shared pieces of the CLI front end: argument scanning and target opening.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "target/target.hpp"

namespace snag::cli {

// Arguments of one subcommand, consumed left to right.
class Args {
public:
    explicit Args(std::vector<std::string> words) : words_(std::move(words)) {}

    // Removes a boolean flag wherever it appears.
    bool flag(const std::string& name);
    // Removes "--name VALUE" or "--name=VALUE"; every occurrence, in order.
    std::vector<std::string> options(const std::string& name);
    std::string option(const std::string& name, const std::string& fallback = "");
    // Words left after flags and options were taken.
    const std::vector<std::string>& rest() const { return words_; }

private:
    std::vector<std::string> words_;
};

// TARGET [--exe PATH] [--sysroot DIR] [--no-stop] [--allow-truncated]: takes these options out of args.
struct TargetSpec {
    std::string spec;
    TargetOptions options;
};
Expected<TargetSpec> take_target(Args& args);

// Prints the target's warnings (missing files, build-id mismatches) to stderr, then, when some
// of a core's files are missing or differ, how to point snag at the right ones (--sysroot; a
// container's root filesystem). Returns how many files were missing or differed. A target opened
// without stopping only to look around (py-bt finds the interpreter before it stops the
// process) passes stops_later: its --no-stop warning does not concern the user.
int print_target_warnings(const Target& target, const TargetOptions& options, bool stops_later = false);

// Prints "snag: <message>" to stderr and returns the error's exit code.
int report(const Error& error);

// Installs handlers so SIGINT/SIGTERM/SIGHUP/SIGPIPE detach live targets before snag exits.
void install_exit_handlers();

}  // namespace snag::cli
