#include "repl_session.hpp"

#include <cstdio>

namespace snag::cli {

Expected<std::unique_ptr<CommandSession>> open_command_session(const TargetSpec& spec,
                                                               const std::vector<std::string>& load_files) {
    auto target = open_target(spec.spec, spec.options);
    if (!target) return std::unexpected(target.error());
    SessionOptions options;
    options.load_files = load_files;
    auto session = Session::open(std::move(*target), options);
    if (!session) return std::unexpected(session.error());
    auto out = std::make_unique<CommandSession>();
    out->session = std::move(*session);
    out->host = std::make_unique<command::SessionHost>(*out->session);
    out->interpreter = std::make_unique<command::Interpreter>(*out->host);
    command::Interpreter* interpreter = out->interpreter.get();
    out->session->set_line_runner(
        [interpreter](std::string_view line, std::ostream& os) { return interpreter->execute(line, os); });
    return out;
}

void print_warnings(Target& target) {
    for (const auto& warning : target.warnings()) std::fprintf(stderr, "warning: %s\n", warning.c_str());
}

}  // namespace snag::cli
