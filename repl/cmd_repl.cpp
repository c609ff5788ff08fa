// snag repl TARGET: the interactive prompt, modelled on lua.c — multi-line chunks detected by the
// parsers, Ctrl-C cancels the running command, Ctrl-D leaves (a live target keeps running).
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <set>
#include <sstream>

#include "repl_pager.hpp"
#include "repl_reader.hpp"
#include "repl_session.hpp"
#include "subcommands.hpp"

namespace snag::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) {
    g_interrupted = 1;
    Session::request_interrupt();
}

// Ctrl-C cancels the command (or the line being typed) instead of ending snag.
void install_sigint() {
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
}

std::string_view lua_code(std::string_view chunk) {
    size_t start = chunk.find_first_not_of(" \t");
    if (start == std::string_view::npos) return {};
    chunk = chunk.substr(start);
    if (chunk[0] == '=') return chunk.substr(1);
    if (chunk.substr(0, 4) == "lua " || chunk.substr(0, 4) == "lua\t") return chunk.substr(4);
    return {};
}

bool is_lua_chunk(std::string_view chunk) {
    size_t start = chunk.find_first_not_of(" \t");
    return start != std::string_view::npos && (chunk[start] == '=' || chunk.substr(start, 4) == "lua " ||
                                               chunk.substr(start, 4) == "lua\t");
}

// The command whose argument is being typed in prefix (the line before the word) and the text
// after the command: builtins by their first word (x/4ga → x), stdlib commands as registered.
std::optional<std::pair<std::string, std::string>> command_of(CommandSession& cs, const std::string& prefix) {
    size_t end = prefix.find_first_of(" \t");
    if (end == std::string::npos) return std::nullopt;  // still typing the command itself
    std::string first = prefix.substr(0, std::min(end, prefix.find('/')));
    auto builtins = cs.interpreter->command_names();
    if (std::find(builtins.begin(), builtins.end(), first) != builtins.end())
        return std::pair{first, prefix.substr(end + 1)};
    auto matched = cs.session->match_command(prefix);
    if (matched && matched->first == "thread apply") {
        // `thread apply all|1 3-5 CMD ARG<TAB>`: CMD's argument completes as CMD's.
        std::string rest = matched->second;
        size_t word = rest.find_first_not_of(" \t");
        while (word != std::string::npos) {
            size_t stop = rest.find_first_of(" \t", word);
            std::string w = rest.substr(word, stop == std::string::npos ? std::string::npos : stop - word);
            if (w != "all" && w.find_first_not_of("0123456789-") != std::string::npos) break;
            word = stop == std::string::npos ? stop : rest.find_first_not_of(" \t", stop);
        }
        if (word != std::string::npos) return command_of(cs, rest.substr(word));
    }
    return matched;
}

// Candidates for the word under the cursor: command words (multi-word names complete word by
// word), thread numbers after `thread`, $registers, and each command's arguments (symbol names,
// Python function and local names) as its `complete` field in stdlib/snag/command.lua says.
std::vector<std::string> completions(CommandSession& cs, const std::string& line, const std::string& word) {
    std::string prefix = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
    std::set<std::string> out;
    if (prefix == "thread " || prefix == "thread apply ") {
        if (prefix == "thread apply " && std::string("all").rfind(word, 0) == 0) out.insert("all");
        for (size_t i = 1; i <= cs.session->target().threads().size(); ++i)
            if (std::to_string(i).rfind(word, 0) == 0) out.insert(std::to_string(i));
    }
    std::vector<std::string> names = cs.interpreter->command_names();
    for (auto& name : cs.host->command_names()) names.push_back(name);
    std::string typed = prefix + word;
    for (const auto& name : names) {
        if (name.size() <= prefix.size() || name.rfind(typed, 0) != 0) continue;
        std::string rest = name.substr(prefix.size());
        out.insert(rest.substr(0, rest.find(' ')));
    }
    if (!word.empty() && word[0] == '$') {
        // Registers and convenience variables (gdb's `$<TAB>`), never C symbols.
        std::vector<std::string> dollars = {"rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
                                            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "eflags",
                                            "cs", "ss", "ds", "es", "fs", "gs", "pc", "sp", "fp"};
        for (auto& name : cs.session->convenience_names()) dollars.push_back(std::move(name));
        for (auto& name : cs.interpreter->evaluator().variable_names()) dollars.push_back(std::move(name));
        for (const auto& name : dollars)
            if (("$" + name).rfind(word, 0) == 0) out.insert("$" + name);
    } else if (auto command = command_of(cs, prefix)) {
        for (auto& c : cs.session->complete_argument(command->first, command->second, word)) out.insert(std::move(c));
    }
    return {out.begin(), out.end()};
}

// One complete chunk: a line, or the lines of an open block / an incomplete Lua chunk.
std::optional<std::string> read_chunk(LineReader& reader, CommandSession& cs, bool tty) {
    auto first = reader.read(tty ? "(snag) " : "");
    if (!first) return std::nullopt;
    reader.remember(*first);
    std::string chunk = *first;
    for (;;) {
        bool more = is_lua_chunk(chunk)
                        ? cs.session->lua_chunk_status(lua_code(chunk)) == LuaChunkStatus::Incomplete
                        : command::Interpreter::needs_more_input(chunk);
        if (!more) return chunk;
        auto next = reader.read(tty ? ">" : "");
        if (!next) return g_interrupted ? std::string() : chunk;
        reader.remember(*next);
        chunk += "\n" + *next;
    }
}

void run_chunk(CommandSession& cs, const std::string& chunk) {
    std::ostringstream out;
    auto& interpreter = *cs.interpreter;
    auto ok = is_lua_chunk(chunk) ? interpreter.execute_lua(lua_code(chunk), out) : interpreter.execute(chunk, out);
    show_output(out.str());
    if (!ok) {
        std::cout.flush();
        std::cerr << ok.error().message << "\n";
    }
}

// `kill` typed at a terminal asks first, as gdb does; scripts and piped input kill at once.
bool kill_confirmed(LineReader& reader, CommandSession& cs, const std::string& chunk) {
    auto command = cs.session->match_command(chunk);
    if (!command || command->first != "kill" || cs.session->target().kind() != TargetKind::Process) return true;
    for (;;) {
        auto answer = reader.read("Kill the program being debugged? (y or n) ");
        std::string a = answer ? answer->substr(0, answer->find_first_of(" \t")) : "n";
        if (a == "y" || a == "Y" || a == "yes") return true;
        if (a == "n" || a == "N" || a == "no" || !answer) break;
        std::cout << "Please answer y or n.\n";
    }
    std::cout << "Not confirmed.\n";
    return false;
}

}  // namespace

// The REPL on an opened target; select_tid: the thread selected first (0: the first thread).
// Also the JIT's `--on-crash repl` (repl/cmd_run.cpp).
int run_repl(const TargetSpec& spec, const std::vector<std::string>& load_files, int select_tid) {
    auto opened = open_command_session(spec, load_files);
    if (!opened) return report(opened.error());
    CommandSession& cs = **opened;
    print_warnings(cs.session->target());
    if (select_tid) (void)cs.session->select_thread(select_tid);
    install_sigint();

    bool tty = ::isatty(STDIN_FILENO);
    auto reader = tty ? make_edit_reader(default_history_path(),
                                         [&cs](const std::string& line, const std::string& word) {
                                             return completions(cs, line, word);
                                         },
                                         [] { return g_interrupted != 0; })
                      : make_stream_reader();
    if (tty) {
        const auto& target = cs.session->target();
        std::cout << "snag " << SNAG_VERSION << ": " << (target.kind() == TargetKind::Core ? "core of " : "process ")
                  << target.process().pid << " (" << target.process().name << "), " << target.threads().size()
                  << " threads. Type \"help\" for commands, Ctrl-D to leave.\n";
    }
    for (;;) {
        // Cleared before the prompt, not before the command: a Ctrl-C pressed just after Enter,
        // before the command got going, must still cancel it.
        Session::clear_interrupt();
        g_interrupted = 0;
        auto chunk = read_chunk(*reader, cs, tty);
        if (!chunk) {
            if (g_interrupted) {  // Ctrl-C at the prompt drops the line, as in gdb
                std::cout << "\n";
                continue;
            }
            if (tty) std::cout << "\n";
            break;
        }
        if (tty && !kill_confirmed(*reader, cs, *chunk)) continue;
        run_chunk(cs, *chunk);
        if (cs.interpreter->quit_requested()) break;
    }
    reader.reset();  // saves the history
    cs.detach();
    return 0;
}

int cmd_repl(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << "usage: snag repl TARGET [--load LUAFILE]...\n"
                     "Interactive commands (see docs/repl.md); Ctrl-C cancels, Ctrl-D leaves.\n";
        return 0;
    }
    std::vector<std::string> load_files = args.options("--load");
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    return run_repl(*spec, load_files, 0);
}

}  // namespace snag::cli
