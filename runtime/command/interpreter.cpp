#include "command/interpreter.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "command/disassemble.hpp"
#include "command/parser.hpp"
#include "command/printf.hpp"

namespace snag::command {

namespace {

constexpr int kMaxUserCallDepth = 1024;  // gdb's max-user-call-depth default

std::string_view trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The first word of a command line ends at a blank or at the '/' of "x/4ga".
std::pair<std::string, std::string_view> split_command(std::string_view line) {
    size_t end = line.find_first_of(" \t/");
    if (end == std::string_view::npos) return {std::string(line), {}};
    return {std::string(line.substr(0, end)), line.substr(end)};
}

// The builtin commands and what `help` says about them.
const std::map<std::string, std::string>& builtins() {
    static const std::map<std::string, std::string> list = {
        {"print", "print[/FMT] EXPR -- evaluate EXPR and record it as $N (FMT: x d u o t c a z)"},
        {"p", "alias of print"},
        {"inspect", "alias of print"},
        {"output", "output[/FMT] EXPR -- print EXPR without a history number or newline"},
        {"set", "set $VAR = EXPR -- assign a convenience variable"},
        {"x", "x/NFU ADDR -- examine memory (F: x d u o t a c f s i z; U: b h w g); x/Ni disassembles"},
        {"disassemble", "disassemble [/r] [ADDR | START,END | START,+LEN] -- the function around ADDR (default: $pc) as instructions; /r adds raw bytes"},
        {"printf", "printf \"FORMAT\", ARG... -- formatted output (%d %u %x %o %c %s %p %%)"},
        {"echo", "echo TEXT -- print TEXT with C escapes (\\n, \\t)"},
        {"source", "source FILE -- run a command script"},
        {"define", "define NAME -- define a command; body until 'end'; $arg0.. and $argc"},
        {"document", "document NAME -- document a user-defined command; text until 'end'"},
        {"if", "if EXPR ... [else ...] end -- conditional"},
        {"while", "while EXPR ... end -- loop"},
        {"commands", "commands [N] ... end -- commands for breakpoint N (live control)"},
        {"help", "help [COMMAND|user-defined] -- describe commands"},
        {"lua", "lua CODE (or =CODE) -- evaluate Lua"},
        {"quit", "quit -- leave snag (a live target keeps running)"},
        {"q", "alias of quit"},
    };
    return list;
}

// gdb settings about the terminal and confirmation: meaningful to gdb's UI only.
bool is_ui_setting(std::string_view args) {
    static const char* names[] = {"pagination", "height", "width", "confirm", "verbose", "print",
                                  "logging", "listsize", "style", "charset", "prompt", "editing"};
    auto [word, rest] = split_command(args);
    for (const char* n : names)
        if (word == n) return true;
    return false;
}

// A parsed block body back as script text (for `commands`, whose body runs at each hit).
std::string block_source(const std::vector<Node>& nodes, int depth = 0) {
    std::string text;
    auto line = [&](const std::string& l) { text += std::string(depth * 2, ' ') + l + "\n"; };
    for (const auto& node : nodes) {
        switch (node.kind) {
            case Node::Kind::Line: line(node.text); break;
            case Node::Kind::If:
            case Node::Kind::While:
                line(std::string(node.kind == Node::Kind::If ? "if " : "while ") + node.text);
                text += block_source(node.body, depth + 1);
                if (!node.else_body.empty()) {
                    line("else");
                    text += block_source(node.else_body, depth + 1);
                }
                line("end");
                break;
            case Node::Kind::Commands:
                line("commands " + node.text);
                text += block_source(node.body, depth + 1);
                line("end");
                break;
            case Node::Kind::Define:
            case Node::Kind::Document:
                line(std::string(node.kind == Node::Kind::Define ? "define " : "document ") + node.text);
                for (const auto& inner : node.body) line(inner.text);
                line("end");
                break;
        }
    }
    return text;
}

}  // namespace

std::vector<std::string> split_user_args(std::string_view text) {
    std::vector<std::string> args;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i >= text.size()) break;
        std::string arg;
        char quote = 0;
        int parens = 0;
        for (; i < text.size(); ++i) {
            char c = text[i];
            if (!quote && !parens && (c == ' ' || c == '\t')) break;
            if (c == '\\' && i + 1 < text.size()) {
                arg += c;
                arg += text[++i];
                continue;
            }
            if (quote) {
                if (c == quote) quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '(') {
                ++parens;
            } else if (c == ')' && parens) {
                --parens;
            }
            arg += c;
        }
        args.push_back(arg);
    }
    return args;
}

Expected<std::string> substitute_args(std::string_view text, const std::vector<std::string>& args) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text.compare(i, 4, "$arg") != 0 || (i > 0 && is_identifier_char(text[i - 1]))) {
            out += text[i++];
            continue;
        }
        size_t j = i + 4;
        if (j < text.size() && text[j] == 'c' && (j + 1 == text.size() || !is_identifier_char(text[j + 1]))) {
            out += std::to_string(args.size());
            i = j + 1;
            continue;
        }
        size_t k = j;
        while (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) ++k;
        if (k == j || (k < text.size() && is_identifier_char(text[k]))) {
            out += text[i++];
            continue;
        }
        size_t n = std::stoul(std::string(text.substr(j, k - j)));
        if (n >= args.size()) return fail("Missing argument " + std::to_string(n) + " in user function.");
        out += args[n];
        i = k;
    }
    return out;
}

bool Interpreter::needs_more_input(std::string_view text) {
    auto parsed = parse_script(text);
    return !parsed && parsed.error().incomplete;
}

Expected<void> Interpreter::execute(std::string_view text, std::ostream& out) {
    auto nodes = parse_script(text);
    if (!nodes) {
        if (nodes.error().incomplete)
            return fail("incomplete block: it needs its body and a closing 'end' (put it in a file and use -x or source)");
        return fail(describe(nodes.error(), text));
    }
    return run_nodes(*nodes, out, nullptr);
}

Expected<void> Interpreter::source(const std::string& path, std::ostream& out) {
    std::ifstream in(path);
    if (!in) return fail(path + ": No such file or directory.");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    auto nodes = parse_script(text);
    if (!nodes) return fail(path + ":" + std::to_string(nodes.error().line) + ": " + describe(nodes.error(), text));
    for (const auto& node : *nodes) {
        auto ok = run_node(node, out, nullptr);
        if (!ok) return fail(path + ":" + std::to_string(node.line) + ": " + ok.error().message);
        if (quit_) break;
    }
    return {};
}

Expected<void> Interpreter::run_nodes(const std::vector<Node>& nodes, std::ostream& out, const UserArgs* args) {
    for (const auto& node : nodes) {
        if (host_.interrupted()) return fail("Quit");
        auto ok = run_node(node, out, args);
        if (!ok) return ok;
        if (quit_) break;
    }
    return {};
}

Expected<bool> Interpreter::condition(const std::string& text, const UserArgs* args) {
    std::string expr = text;
    if (args) {
        auto substituted = substitute_args(text, *args);
        if (!substituted) return std::unexpected(substituted.error());
        expr = *substituted;
    }
    auto v = eval_.evaluate(expr);
    if (!v) return std::unexpected(v.error());
    if (!v->type->is_scalar()) return fail("the condition is not a number: " + expr);
    return v->is_true();
}

Expected<void> Interpreter::run_node(const Node& node, std::ostream& out, const UserArgs* args) {
    switch (node.kind) {
        case Node::Kind::Line: {
            if (!args) return run_line(node.text, out);
            auto line = substitute_args(node.text, *args);
            if (!line) return std::unexpected(line.error());
            return run_line(*line, out);
        }
        case Node::Kind::Define:
            user_[node.text].body = node.body;
            return {};
        case Node::Kind::Document: {
            auto it = user_.find(node.text);
            if (it == user_.end()) return fail("Undefined command: \"" + node.text + "\".");
            std::string doc;
            for (const auto& line : node.body) doc += (doc.empty() ? "" : "\n") + line.text;
            it->second.doc = doc;
            return {};
        }
        case Node::Kind::If: {
            auto c = condition(node.text, args);
            if (!c) return std::unexpected(c.error());
            return run_nodes(*c ? node.body : node.else_body, out, args);
        }
        case Node::Kind::While:
            for (;;) {
                if (host_.interrupted()) return fail("Quit");
                auto c = condition(node.text, args);
                if (!c) return std::unexpected(c.error());
                if (!*c) return {};
                auto ok = run_nodes(node.body, out, args);
                if (!ok) return ok;
                if (quit_) return {};
            }
        case Node::Kind::Commands:
            breakpoint_commands_.push_back({node.text, node.body});
            // Live control (stdlib/commands/control.lua) keeps the body as text for its breakpoints.
            if (host_.match_command("commands"))
                return host_.run_command("commands", node.text + "\n" + block_source(node.body), out);
            return fail("breakpoints need a live target with live control (not yet available); "
                        "the commands were recorded for breakpoint " +
                        (node.text.empty() ? std::string("(last)") : node.text) + ".");
    }
    return {};
}

Expected<void> Interpreter::run_line(std::string_view text, std::ostream& out) {
    std::string_view line = trim(text);
    if (line.empty() || line[0] == '#') return {};
    if (line[0] == '=') return lua(line.substr(1), out);
    auto [word, rest] = split_command(line);
    std::string_view args = trim(rest);
    if (user_.count(word)) return call_user(word, rest, out);
    if (word == "print" || word == "p" || word == "inspect") return print(rest, out, true);
    if (word == "output") return print(rest, out, false);
    if (word == "set") return set(args, out);
    if (word == "x") return examine(eval_, examine_, rest, out);
    if (word == "disassemble") return disassemble_command(eval_, rest, out);
    if (word == "printf") {
        auto text = format_printf(eval_, args);
        if (!text) return std::unexpected(text.error());
        out << *text;
        return {};
    }
    if (word == "echo") {
        size_t start = rest.find_first_not_of(" \t");
        out << unescape(start == std::string_view::npos ? std::string_view() : rest.substr(start));
        return {};
    }
    if (word == "source") return source(std::string(args), out);
    if (word == "help" || word == "h") return help(args, out);
    if (word == "lua") return lua(args, out);
    if (word == "quit" || word == "q") {
        quit_ = true;
        return {};
    }
    if (auto match = host_.match_command(line)) return host_.run_command(match->first, match->second, out);
    if (auto full = unique_prefix(word)) return run_line(*full + std::string(rest), out);
    return fail("Undefined command: \"" + word + "\".  Try \"help\".");
}

// gdb accepts an unambiguous prefix of a built-in or user-defined command ("outp" for output).
std::optional<std::string> Interpreter::unique_prefix(const std::string& word) const {
    std::optional<std::string> found;
    auto consider = [&](const std::string& name) {
        if (name.size() <= word.size() || name.compare(0, word.size(), word) != 0) return true;
        if (found && *found != name) return false;
        found = name;
        return true;
    };
    for (const auto& [name, text] : builtins())
        if (!consider(name)) return std::nullopt;
    for (const auto& [name, cmd] : user_)
        if (!consider(name)) return std::nullopt;
    return found;
}

Expected<void> Interpreter::call_user(const std::string& name, std::string_view args, std::ostream& out) {
    if (depth_ >= kMaxUserCallDepth) return fail("Max user call depth exceeded -- command aborted.");
    // Copy the body: the command may redefine itself while it runs.
    std::vector<Node> body = user_[name].body;
    UserArgs values = split_user_args(args);
    ++depth_;
    auto ok = run_nodes(body, out, &values);
    --depth_;
    return ok;
}

Expected<void> Interpreter::print(std::string_view args, std::ostream& out, bool record) {
    args = trim(args);
    char format = 0;
    if (!args.empty() && args[0] == '/') {
        size_t end = args.find_first_of(" \t");
        auto spec = parse_format(args.substr(1, end == std::string_view::npos ? args.npos : end - 1));
        if (!spec) return std::unexpected(spec.error());
        if (spec->unit || spec->count != 1) return fail("Item count other than 1 is meaningless in \"print\" command.");
        format = spec->format;
        args = end == std::string_view::npos ? std::string_view() : trim(args.substr(end));
    }
    Expected<Value> value = args.empty() ? eval_.evaluate("$") : eval_.evaluate(args);
    if (!value) return std::unexpected(value.error());
    auto ctx = eval_.print_context();
    auto text = format ? format_value(*value, format, ctx) : format_value(*value, ctx);
    if (!text) return std::unexpected(text.error());
    if (!record) {
        out << *text;
        return {};
    }
    Value stored = *value;
    out << "$" << eval_.record(stored) << " = " << *text << "\n";
    return {};
}

Expected<void> Interpreter::set(std::string_view args, std::ostream& out) {
    for (std::string_view prefix : {"variable ", "var "})
        if (args.substr(0, prefix.size()) == prefix) args = trim(args.substr(prefix.size()));
    if (!args.empty() && args[0] != '$' && is_ui_setting(args)) return {};
    if (args.empty()) return fail("Argument required (expression to compute).");
    if (args[0] != '$') {
        std::string line = "set " + std::string(args);
        if (auto match = host_.match_command(line); match && match->first != "set")
            return host_.run_command(match->first, match->second, out);
    }
    auto v = eval_.evaluate(args);
    if (!v) return std::unexpected(v.error());
    return {};
}

Expected<void> Interpreter::help(std::string_view args, std::ostream& out) {
    if (args == "user-defined") {
        out << "User-defined commands.\nThe commands in this class are those defined by the user.\n"
               "Use the \"define\" command to define a command.\n\nList of commands:\n\n";
        for (const auto& [name, cmd] : user_) {
            std::string summary = cmd.doc.empty() ? "User-defined." : cmd.doc.substr(0, cmd.doc.find('\n'));
            out << name << " -- " << summary << "\n";
        }
        out << "\nType \"help\" followed by command name for full documentation.\n";
        return {};
    }
    if (auto it = user_.find(std::string(args)); it != user_.end()) {
        out << (it->second.doc.empty() ? "User-defined." : it->second.doc) << "\n";
        return {};
    }
    if (auto it = builtins().find(std::string(args)); it != builtins().end()) {
        out << it->second << "\n";
        return {};
    }
    if (host_.match_command("help")) {
        auto ok = host_.run_command("help", args, out);
        if (!ok || !args.empty()) return ok;
    } else if (!args.empty()) {
        return fail("Undefined command: \"" + std::string(args) + "\".  Try \"help\".");
    }
    out << "\nBuilt into the command language (help NAME for each):\n ";
    for (const auto& [name, text] : builtins()) out << " " << name;
    out << "\n";
    if (!user_.empty()) {
        out << "User-defined (help user-defined):\n ";
        for (const auto& [name, cmd] : user_) out << " " << name;
        out << "\n";
    }
    return {};
}

Expected<void> Interpreter::lua(std::string_view code, std::ostream& out) {
    auto result = host_.eval_lua(trim(code), out);
    if (!result) return std::unexpected(result.error());
    if (!result->empty()) out << *result << "\n";
    return {};
}

std::vector<std::string> Interpreter::command_names() const {
    std::vector<std::string> names;
    for (const auto& [name, text] : builtins()) names.push_back(name);
    for (const auto& [name, cmd] : user_) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace snag::command
