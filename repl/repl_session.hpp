// The command language wired to a Session: what `snag exec` and `snag repl` share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "command/interpreter.hpp"
#include "command/session_host.hpp"
#include "lua/session.hpp"

namespace snag::cli {

struct CommandSession {
    std::unique_ptr<Session> session;
    std::unique_ptr<command::SessionHost> host;
    std::unique_ptr<command::Interpreter> interpreter;

    // Live targets: resume the process; idempotent.
    void detach() {
        if (session) session->target().detach();
    }
};

// Opens TARGET, loads the stdlib (and --load files) and routes Lua's cmd() lines to the interpreter.
Expected<std::unique_ptr<CommandSession>> open_command_session(const TargetSpec& spec,
                                                               const std::vector<std::string>& load_files);

// Prints the target's non-fatal warnings (missing files, build-id mismatches) to stderr.
void print_warnings(Target& target);

}  // namespace snag::cli
