// snag exec TARGET [-ex CMD]... [-x FILE]...: gdb's batch mode. Commands and files run in the
// order given; a failing command prints its error to stderr and the next one still runs.
// Exit status: 0 when every command succeeded, 1 when any failed, 2 when TARGET cannot be opened.
#include <iostream>

#include "repl_session.hpp"
#include "subcommands.hpp"

namespace snag::cli {

namespace {

struct Step {
    bool is_file = false;
    std::string text;  // command line or file path
};

// -ex/-x keep their relative order, which Args::options would lose.
Expected<std::vector<Step>> take_steps(Args& args, std::vector<std::string>& rest) {
    std::vector<Step> steps;
    const auto& words = args.rest();
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        bool ex = w == "-ex" || w == "--ex" || w == "-eval-command" || w == "--eval-command";
        bool file = w == "-x" || w == "--command";
        if (!ex && !file) {
            rest.push_back(w);
            continue;
        }
        if (i + 1 == words.size()) return fail(w + " needs an argument");
        steps.push_back({file, words[++i]});
    }
    return steps;
}

}  // namespace

int cmd_exec(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << "usage: snag exec TARGET [-ex COMMAND]... [-x FILE]... [--load LUAFILE]...\n"
                     "Runs commands and scripts in order, like gdb -batch; exit 1 if any failed.\n";
        return 0;
    }
    std::vector<std::string> load_files = args.options("--load");
    std::vector<std::string> rest;
    auto steps = take_steps(args, rest);
    if (!steps) return report(steps.error());
    Args target_args(rest);
    auto spec = take_target(target_args);
    if (!spec) return report(spec.error());
    auto cs = open_command_session(*spec, load_files);
    if (!cs) return report(cs.error());
    print_warnings((*cs)->session->target());

    auto& interpreter = *(*cs)->interpreter;
    int failures = 0;
    for (const auto& step : *steps) {
        Session::clear_interrupt();
        auto ok = step.is_file ? interpreter.source(step.text, std::cout) : interpreter.execute(step.text, std::cout);
        std::cout.flush();
        if (!ok) {
            ++failures;
            std::cerr << ok.error().message << "\n";
        }
        if (interpreter.quit_requested()) break;
    }
    (*cs)->detach();
    return failures ? 1 : 0;
}

}  // namespace snag::cli
