// Interpreter: runs command-language scripts and lines. Built-ins (print, x, set, printf, echo,
// output, source, define, document, if, while, help user-defined) run here; every other command
// goes to the host (the Lua stdlib through Session).
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "command/ast.hpp"
#include "command/evaluator.hpp"
#include "command/examine.hpp"
#include "command/host.hpp"

namespace snag::command {

// A `commands N … end` body, kept for live control's breakpoints.
struct BreakpointCommands {
    std::string breakpoint;  // as written: "", "2", "1-3"
    std::vector<Node> body;
};

class Interpreter {
public:
    explicit Interpreter(CommandHost& host) : host_(host), eval_(host) {}

    // Runs one line or several lines of complete blocks; stops at the first error.
    Expected<void> execute(std::string_view text, std::ostream& out);
    // `source FILE`; errors name FILE:LINE.
    Expected<void> source(const std::string& path, std::ostream& out);
    // `lua CODE` / `=CODE` with CODE possibly spanning lines (the REPL's multi-line chunks).
    Expected<void> execute_lua(std::string_view code, std::ostream& out) { return lua(code, out); }
    // True while text ends inside an open define/document/if/while/commands block.
    static bool needs_more_input(std::string_view text);

    // Built-ins and user-defined commands (the host adds its own for completion and help).
    std::vector<std::string> command_names() const;
    bool quit_requested() const { return quit_; }
    Evaluator& evaluator() { return eval_; }
    const std::vector<BreakpointCommands>& breakpoint_commands() const { return breakpoint_commands_; }

private:
    using UserArgs = std::vector<std::string>;
    struct UserCommand {
        std::vector<Node> body;
        std::string doc;
    };

    Expected<void> run_nodes(const std::vector<Node>& nodes, std::ostream& out, const UserArgs* args);
    Expected<void> run_node(const Node& node, std::ostream& out, const UserArgs* args);
    Expected<void> run_line(std::string_view line, std::ostream& out);
    Expected<bool> condition(const std::string& text, const UserArgs* args);
    Expected<void> call_user(const std::string& name, std::string_view args, std::ostream& out);
    std::optional<std::string> unique_prefix(const std::string& word) const;

    Expected<void> print(std::string_view args, std::ostream& out, bool record);
    Expected<void> set(std::string_view args, std::ostream& out);
    Expected<void> help(std::string_view args, std::ostream& out);
    Expected<void> lua(std::string_view code, std::ostream& out);

    CommandHost& host_;
    Evaluator eval_;
    ExamineState examine_;
    std::map<std::string, UserCommand> user_;
    std::vector<BreakpointCommands> breakpoint_commands_;
    int depth_ = 0;
    bool quit_ = false;
};

// gdb's splitting of user-command arguments: whitespace-separated, quotes and parentheses kept.
std::vector<std::string> split_user_args(std::string_view text);
// Replaces $argc and $argN with the call's arguments, as gdb does before running each line.
Expected<std::string> substitute_args(std::string_view text, const std::vector<std::string>& args);

}  // namespace snag::command
