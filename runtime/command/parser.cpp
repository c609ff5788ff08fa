#include "command/parser.hpp"

#include <tao/pegtl.hpp>

#include <cctype>
#include <stdexcept>

#include "command/grammar.hpp"

namespace snag::command {

namespace pg = tao::pegtl;
namespace gr = grammar;

// ---- error messages: what the user should have written at the failing column ----
template <class Rule>
inline constexpr const char* error_message = nullptr;
template <> inline constexpr auto error_message<gr::hex_digits> = "expected hex digits after 0x";
template <> inline constexpr auto error_message<gr::char_close> = "expected a closing '";
template <> inline constexpr auto error_message<gr::string_close> = "expected a closing \"";
template <> inline constexpr auto error_message<gr::expr> = "expected an expression";
template <> inline constexpr auto error_message<gr::unary> = "expected an operand";
template <> inline constexpr auto error_message<gr::multiplicative> = "expected an operand";
template <> inline constexpr auto error_message<gr::additive> = "expected an operand";
template <> inline constexpr auto error_message<gr::shift> = "expected an operand";
template <> inline constexpr auto error_message<gr::relational> = "expected an operand";
template <> inline constexpr auto error_message<gr::equality> = "expected an operand";
template <> inline constexpr auto error_message<gr::bit_and> = "expected an operand";
template <> inline constexpr auto error_message<gr::bit_xor> = "expected an operand";
template <> inline constexpr auto error_message<gr::bit_or> = "expected an operand";
template <> inline constexpr auto error_message<gr::logical_and> = "expected an operand";
template <> inline constexpr auto error_message<gr::paren_close> = "expected ')'";
template <> inline constexpr auto error_message<gr::index_close> = "expected ']'";
template <> inline constexpr auto error_message<gr::member_name> = "expected a member name";
template <> inline constexpr auto error_message<gr::sizeof_type> = "expected '(TYPE)' after sizeof";
template <> inline constexpr auto error_message<gr::end_of_expression> = "unexpected text after the expression";
template <> inline constexpr auto error_message<gr::printf_format> = "expected a format string in double quotes";
template <> inline constexpr auto error_message<gr::command_name> = "expected a command name";
template <> inline constexpr auto error_message<gr::head_end> = "expected the end of the line after the name";
template <> inline constexpr auto error_message<gr::condition> = "expected a condition";
template <> inline constexpr auto error_message<gr::block_end> = "expected 'end' to close the block";
template <> inline constexpr auto error_message<gr::script_end> = "'end' or 'else' outside a define, if or while block";

struct error_messages {
    template <class Rule>
    static constexpr auto message = error_message<Rule>;
};
template <class Rule>
using control = pg::must_if<error_messages, pg::normal, false>::control<Rule>;

namespace {

// ---- expression actions: an operand stack that binary/unary rules fold ----
struct ExprState {
    std::vector<ExprPtr> stack;
    std::vector<std::string> types;  // pending cast types, innermost last
};

ExprPtr make(Expr::Kind kind, size_t column) {
    auto e = std::make_shared<Expr>();
    e->kind = kind;
    e->column = column;
    return e;
}

ExprPtr pop(ExprState& st) {
    auto e = st.stack.back();
    st.stack.pop_back();
    return e;
}

template <class Input>
size_t column_of(const Input& in) { return in.position().column - 1; }

// The operator at the start of a matched tail like "<= 3".
std::string leading_operator(const std::string& s) {
    static const char* two[] = {"<<", ">>", "<=", ">=", "==", "!=", "&&", "||"};
    for (auto* op : two)
        if (s.rfind(op, 0) == 0) return op;
    return s.substr(0, 1);
}

std::string collapse_spaces(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == ' ' || c == '\t') {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            if (c == '*' && !out.empty() && out.back() != ' ' && out.back() != '*') out += ' ';
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// Type spelling between the parentheses of "(unsigned  long *)".
std::string type_between_parens(const std::string& s) {
    return collapse_spaces(s.substr(1, s.size() - 2));
}

template <class Rule>
struct expr_action : pg::nothing<Rule> {};

template <>
struct expr_action<gr::number> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        std::string text = in.string();
        auto e = make(Expr::Kind::Number, column_of(in));
        size_t end = text.find_first_of("uUlL");
        std::string digits = text.substr(0, end);
        int base = digits.size() > 2 && (digits[1] == 'x' || digits[1] == 'X') ? 16
                   : digits.size() > 1 && digits[0] == '0'                      ? 8 : 10;
        e->number = std::stoull(base == 16 ? digits.substr(2) : digits, nullptr, base);
        if (end != std::string::npos) {
            e->is_unsigned = text.find_first_of("uU", end) != std::string::npos;
            e->is_long = text.find_first_of("lL", end) != std::string::npos;
        }
        e->text = text;
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::char_literal> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        std::string text = in.string();
        auto e = make(Expr::Kind::Char, column_of(in));
        std::string value = unescape(std::string_view(text).substr(1, text.size() - 2));
        e->number = value.empty() ? 0 : static_cast<unsigned char>(value[0]);
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::string_literal> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        std::string text = in.string();
        auto e = make(Expr::Kind::String, column_of(in));
        e->text = unescape(std::string_view(text).substr(1, text.size() - 2));
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::printf_format> : expr_action<gr::string_literal> {};

template <>
struct expr_action<gr::variable> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Variable, column_of(in));
        e->text = in.string();
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::symbol> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Symbol, column_of(in));
        e->text = in.string();
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::cast_prefix> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) { st.types.push_back(type_between_parens(in.string())); }
};

template <>
struct expr_action<gr::cast_expr> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Cast, column_of(in));
        e->text = st.types.back();
        st.types.pop_back();
        e->operands.push_back(pop(st));
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::sizeof_type> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::SizeOf, column_of(in));
        e->text = type_between_parens(in.string());
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::prefixed> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Unary, column_of(in));
        e->text = in.string().substr(0, 1);
        e->operands.push_back(pop(st));
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::index_tail> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Index, column_of(in));
        auto index = pop(st);
        e->operands = {pop(st), index};
        st.stack.push_back(e);
    }
};

template <>
struct expr_action<gr::member_tail> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Member, column_of(in));
        std::string text = in.string();
        std::string op = text.rfind("->", 0) == 0 ? "->" : ".";
        size_t name = text.find_first_not_of(" \t", op.size());
        e->text = op + text.substr(name);
        e->operands.push_back(pop(st));
        st.stack.push_back(e);
    }
};

struct fold_binary {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Binary, column_of(in));
        e->text = leading_operator(in.string());
        auto right = pop(st);
        e->operands = {pop(st), right};
        st.stack.push_back(e);
    }
};
template <> struct expr_action<gr::mul_tail> : fold_binary {};
template <> struct expr_action<gr::add_tail> : fold_binary {};
template <> struct expr_action<gr::shift_tail> : fold_binary {};
template <> struct expr_action<gr::rel_tail> : fold_binary {};
template <> struct expr_action<gr::eq_tail> : fold_binary {};
template <> struct expr_action<gr::bitand_tail> : fold_binary {};
template <> struct expr_action<gr::xor_tail> : fold_binary {};
template <> struct expr_action<gr::bitor_tail> : fold_binary {};
template <> struct expr_action<gr::and_tail> : fold_binary {};
template <> struct expr_action<gr::or_tail> : fold_binary {};

template <>
struct expr_action<gr::assign_tail> {
    template <class Input>
    static void apply(const Input& in, ExprState& st) {
        auto e = make(Expr::Kind::Assign, column_of(in));
        auto value = pop(st);
        e->operands = {pop(st), value};
        st.stack.push_back(e);
    }
};

SyntaxError to_syntax_error(const pg::parse_error& e) {
    SyntaxError err;
    err.message = std::string(e.message());
    if (!e.positions().empty()) {
        err.line = static_cast<int>(e.positions().front().line);
        err.column = e.positions().front().column - 1;
    }
    return err;
}

template <class Rule>
std::expected<ExprState, SyntaxError> parse_with(std::string_view text) {
    ExprState st;
    pg::memory_input in(text.data(), text.size(), "command");
    try {
        if (!pg::parse<Rule, expr_action, control>(in, st))
            return std::unexpected(SyntaxError{"expected an expression", 1, 0, false});
    } catch (const pg::parse_error& e) {
        return std::unexpected(to_syntax_error(e));
    } catch (const std::out_of_range&) {
        return std::unexpected(SyntaxError{"number too large for 64 bits", 1, 0, false});
    }
    return st;
}

// ---- script actions: open blocks form a stack; finished ones join their parent ----
struct ScriptState {
    std::vector<Node> root;
    std::vector<Node> open;
    std::vector<bool> in_else;
    std::string name;  // last command_name / condition / breakpoint spec seen

    std::vector<Node>& parent() {
        if (open.empty()) return root;
        return in_else.back() ? open.back().else_body : open.back().body;
    }
    void begin(Node::Kind kind, int line) {
        Node n;
        n.kind = kind;
        n.text = name;
        n.line = line;
        open.push_back(std::move(n));
        in_else.push_back(false);
    }
};

std::string trim(std::string s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

template <class Rule>
struct script_action : pg::nothing<Rule> {};

struct remember_text {
    template <class Input>
    static void apply(const Input& in, ScriptState& st) { st.name = trim(in.string()); }
};
template <> struct script_action<gr::command_name> : remember_text {};
template <> struct script_action<gr::condition> : remember_text {};
template <> struct script_action<gr::breakpoint_spec> : remember_text {};

template <Node::Kind K>
struct begin_block {
    template <class Input>
    static void apply(const Input& in, ScriptState& st) { st.begin(K, static_cast<int>(in.position().line)); }
};
template <> struct script_action<gr::define_head> : begin_block<Node::Kind::Define> {};
template <> struct script_action<gr::document_head> : begin_block<Node::Kind::Document> {};
template <> struct script_action<gr::if_head> : begin_block<Node::Kind::If> {};
template <> struct script_action<gr::while_head> : begin_block<Node::Kind::While> {};
template <> struct script_action<gr::commands_head> : begin_block<Node::Kind::Commands> {};

template <>
struct script_action<gr::else_line> {
    static void apply0(ScriptState& st) { st.in_else.back() = true; }
};

template <>
struct script_action<gr::block_end> {
    static void apply0(ScriptState& st) {
        Node done = std::move(st.open.back());
        st.open.pop_back();
        st.in_else.pop_back();
        st.parent().push_back(std::move(done));
    }
};

template <bool Raw>
struct add_line {
    template <class Input>
    static void apply(const Input& in, ScriptState& st) {
        Node n;
        n.text = Raw ? std::string(in.string()) : trim(in.string());
        while (!n.text.empty() && (n.text.back() == '\n' || n.text.back() == '\r')) n.text.pop_back();
        if (Raw) n.text = trim(n.text);
        n.line = static_cast<int>(in.position().line);
        st.parent().push_back(std::move(n));
    }
};
template <> struct script_action<gr::simple_line> : add_line<false> {};
template <> struct script_action<gr::doc_line> : add_line<true> {};
template <> struct script_action<gr::doc_blank> : add_line<true> {};

}  // namespace

std::expected<ExprPtr, SyntaxError> parse_expression(std::string_view text) {
    auto st = parse_with<gr::expression_line>(text);
    if (!st) return std::unexpected(st.error());
    return st->stack.back();
}

std::expected<std::vector<ExprPtr>, SyntaxError> parse_printf(std::string_view text) {
    auto st = parse_with<gr::printf_line>(text);
    if (!st) return std::unexpected(st.error());
    return st->stack;
}

std::expected<std::vector<Node>, SyntaxError> parse_script(std::string_view text) {
    ScriptState st;
    pg::memory_input in(text.data(), text.size(), "script");
    try {
        pg::parse<gr::script, script_action, control>(in, st);
    } catch (const pg::parse_error& e) {
        SyntaxError err = to_syntax_error(e);
        err.incomplete = e.positions().front().byte == text.size() &&
                         err.message == error_message<gr::block_end>;
        return std::unexpected(err);
    }
    return st.root;
}

std::string describe(const SyntaxError& error, std::string_view source) {
    std::string_view line = source;
    for (int i = 1; i < error.line; ++i) {
        size_t nl = line.find('\n');
        line = nl == std::string_view::npos ? std::string_view() : line.substr(nl + 1);
    }
    line = line.substr(0, line.find('\n'));
    std::string out = "syntax error: " + error.message + "\n  " + std::string(line) + "\n  ";
    for (size_t i = 0; i < error.column && i < line.size(); ++i) out += line[i] == '\t' ? '\t' : ' ';
    return out + "^";
}

std::string unescape(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c != '\\' || i + 1 == text.size()) {
            out += c;
            continue;
        }
        char n = text[++i];
        switch (n) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'v': out += '\v'; break;
            case 'e': out += '\033'; break;
            case 'x': {
                int value = 0, digits = 0;
                while (i + 1 < text.size() && digits < 2 && std::isxdigit(static_cast<unsigned char>(text[i + 1]))) {
                    value = value * 16 + std::stoi(std::string(1, text[++i]), nullptr, 16);
                    ++digits;
                }
                out += static_cast<char>(value);
                break;
            }
            default:
                if (n >= '0' && n <= '7') {
                    int value = n - '0', digits = 1;
                    while (i + 1 < text.size() && digits < 3 && text[i + 1] >= '0' && text[i + 1] <= '7') {
                        value = value * 8 + (text[++i] - '0');
                        ++digits;
                    }
                    out += static_cast<char>(value);
                } else {
                    out += n;  // \\ \" \' and unknown escapes stand for the character itself
                }
        }
    }
    return out;
}

}  // namespace snag::command
