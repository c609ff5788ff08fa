// Grammar of the command language: expressions, error columns, script blocks.
#include <doctest/doctest.h>

#include "command/parser.hpp"

using namespace snag::command;

namespace {

// Renders an expression tree as a Lisp-like string so shapes are easy to compare.
std::string shape(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::Number: return std::to_string(e.number);
        case Expr::Kind::Char: return "'" + std::to_string(e.number) + "'";
        case Expr::Kind::String: return "\"" + e.text + "\"";
        case Expr::Kind::Variable:
        case Expr::Kind::Symbol: return e.text;
        case Expr::Kind::SizeOf: return "(sizeof " + e.text + ")";
        case Expr::Kind::Cast: return "(cast <" + e.text + "> " + shape(*e.operands[0]) + ")";
        case Expr::Kind::Unary: return "(" + e.text + " " + shape(*e.operands[0]) + ")";
        case Expr::Kind::Member: return "(" + e.text + " " + shape(*e.operands[0]) + ")";
        case Expr::Kind::Index: return "(index " + shape(*e.operands[0]) + " " + shape(*e.operands[1]) + ")";
        case Expr::Kind::Assign: return "(= " + shape(*e.operands[0]) + " " + shape(*e.operands[1]) + ")";
        case Expr::Kind::Binary:
            return "(" + e.text + " " + shape(*e.operands[0]) + " " + shape(*e.operands[1]) + ")";
    }
    return "?";
}

std::string parsed(const std::string& text) {
    auto e = parse_expression(text);
    REQUIRE_MESSAGE(e.has_value(), text << ": " << (e ? "" : e.error().message));
    return shape(**e);
}

SyntaxError error_of(const std::string& text) {
    auto e = parse_expression(text);
    REQUIRE_FALSE(e.has_value());
    return e.error();
}

}  // namespace

TEST_CASE("expressions follow C precedence and associativity") {
    CHECK(parsed("1 + 2 * 3") == "(+ 1 (* 2 3))");
    CHECK(parsed("(1 + 2) * 3") == "(* (+ 1 2) 3)");
    CHECK(parsed("10 - 4 - 3") == "(- (- 10 4) 3)");
    CHECK(parsed("1 << 2 + 3") == "(<< 1 (+ 2 3))");
    CHECK(parsed("$i < $arg1 && !$done || $x == 0x10") == "(|| (&& (< $i $arg1) (! $done)) (== $x 16))");
    CHECK(parsed("a & b | c ^ d") == "(| (& a b) (^ c d))");
    CHECK(parsed("-~5") == "(- (~ 5))");
    CHECK(parsed("$a = $b = 3") == "(= $a (= $b 3))");
    CHECK(parsed("$x <= 3 >= 1") == "(>= (<= $x 3) 1)");
    CHECK(parsed("010") == "8");
    CHECK(parsed("'A'") == "'65'");
    CHECK(parsed("'\\n'") == "'10'");
}

TEST_CASE("casts, dereferences and sizeof") {
    CHECK(parsed("*(long *)$p") == "(* (cast <long *> $p))");
    CHECK(parsed("(unsigned  long)$rsp") == "(cast <unsigned long> $rsp)");
    CHECK(parsed("(struct point *)$rsp") == "(cast <struct point *> $rsp)");
    CHECK(parsed("(PyObject **) 0x10") == "(cast <PyObject **> 16)");
    CHECK(parsed("(uint8_t)300") == "(cast <uint8_t> 300)");
    CHECK(parsed("&counter") == "(& counter)");
    CHECK(parsed("(x) + 1") == "(+ x 1)");
    CHECK(parsed("sizeof(long long)") == "(sizeof long long)");
    CHECK(parsed("$p[2]") == "(index $p 2)");
    CHECK(parsed("((struct parked *)$p)->name") == "(->name (cast <struct parked *> $p))");
    CHECK(parsed("*$p->next.prev") == "(* (.prev (->next $p)))");
    CHECK(error_of("$p->").message == "expected a member name");
}

TEST_CASE("variables: registers, history and convenience names") {
    CHECK(parsed("$") == "$");
    CHECK(parsed("$$") == "$$");
    CHECK(parsed("$$3") == "$$3");
    CHECK(parsed("$1 + $rip") == "(+ $1 $rip)");
    CHECK(parsed("$_") == "$_");
}

TEST_CASE("syntax errors name what was expected at the right column") {
    auto e = error_of("1 +");
    CHECK(e.message == "expected an operand");
    CHECK(e.column == 3);
    e = error_of("(1 + 2");
    CHECK(e.message == "expected ')'");
    CHECK(e.column == 6);
    e = error_of("1 2");
    CHECK(e.message == "unexpected text after the expression");
    CHECK(e.column == 2);
    e = error_of("0xzz");
    CHECK(e.message == "expected hex digits after 0x");
    CHECK(e.column == 2);
    e = error_of("*(long *)");
    CHECK(e.message == "expected an operand");
    CHECK(e.column == 9);
    e = error_of("");
    CHECK(e.message == "expected an operand");
    CHECK(e.column == 0);
    CHECK(describe(error_of("$a + * "), "$a + * ") == "syntax error: expected an operand\n  $a + * \n         ^");
}

TEST_CASE("printf arguments") {
    auto args = parse_printf("\"%p: %d\\n\", $p, 1 + 2");
    REQUIRE(args.has_value());
    REQUIRE(args->size() == 3);
    CHECK((*args)[0]->text == "%p: %d\n");
    CHECK(shape(*(*args)[2]) == "(+ 1 2)");
    auto bad = parse_printf("%d, 1");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message == "expected a format string in double quotes");
    CHECK(bad.error().column == 0);
    auto open = parse_printf("\"abc");
    REQUIRE_FALSE(open.has_value());
    CHECK(open.error().column == 4);
}

TEST_CASE("scripts: define with a nested while, comments and blank lines") {
    const char* text =
        "# dump pointers\n"
        "define dpp\n"
        "  set $i = 0\n"
        "\n"
        "  while $i < $arg1\n"
        "    x/ga *(long *)$p\n"
        "  end\n"
        "end\n"
        "dpp $rsp 8\n";
    auto nodes = parse_script(text);
    REQUIRE(nodes.has_value());
    REQUIRE(nodes->size() == 2);
    const Node& def = (*nodes)[0];
    CHECK(def.kind == Node::Kind::Define);
    CHECK(def.text == "dpp");
    CHECK(def.line == 2);
    REQUIRE(def.body.size() == 2);
    CHECK(def.body[0].text == "set $i = 0");
    CHECK(def.body[1].kind == Node::Kind::While);
    CHECK(def.body[1].text == "$i < $arg1");
    REQUIRE(def.body[1].body.size() == 1);
    CHECK(def.body[1].body[0].text == "x/ga *(long *)$p");
    CHECK((*nodes)[1].text == "dpp $rsp 8");
    CHECK((*nodes)[1].line == 9);
}

TEST_CASE("scripts: if/else, document, commands") {
    auto nodes = parse_script("if $x > 1\n echo big\nelse\n echo small\nend\n"
                              "document dpp\nDump pointers.\n  Usage: dpp ADDR N\nend\n"
                              "commands 2\n  bt\nend");
    REQUIRE(nodes.has_value());
    REQUIRE(nodes->size() == 3);
    CHECK((*nodes)[0].kind == Node::Kind::If);
    CHECK((*nodes)[0].body[0].text == "echo big");
    CHECK((*nodes)[0].else_body[0].text == "echo small");
    CHECK((*nodes)[1].kind == Node::Kind::Document);
    REQUIRE((*nodes)[1].body.size() == 2);
    CHECK((*nodes)[1].body[1].text == "Usage: dpp ADDR N");
    CHECK((*nodes)[2].kind == Node::Kind::Commands);
    CHECK((*nodes)[2].text == "2");
    CHECK((*nodes)[2].body[0].text == "bt");
}

TEST_CASE("scripts: open blocks are incomplete, stray end is an error") {
    auto open = parse_script("define foo\n  p 1\n");
    REQUIRE_FALSE(open.has_value());
    CHECK(open.error().incomplete);
    auto nested = parse_script("while 1\n  if 2\n  end\n");
    REQUIRE_FALSE(nested.has_value());
    CHECK(nested.error().incomplete);
    auto stray = parse_script("p 1\nend\n");
    REQUIRE_FALSE(stray.has_value());
    CHECK_FALSE(stray.error().incomplete);
    CHECK(stray.error().line == 2);
    auto no_condition = parse_script("if\n");
    REQUIRE_FALSE(no_condition.has_value());
    CHECK(no_condition.error().message == "expected a condition");
    CHECK_FALSE(no_condition.error().incomplete);
    auto no_name = parse_script("define\n");
    REQUIRE_FALSE(no_name.has_value());
    CHECK(no_name.error().message == "expected a command name");
    CHECK(parse_script("info threads").has_value());
    CHECK(parse_script("ending 3\nelsewhere\n").has_value());
}

TEST_CASE("escapes as echo and string literals decode them") {
    CHECK(unescape("a\\tb\\n") == "a\tb\n");
    CHECK(unescape("\\\"q\\\"\\\\") == "\"q\"\\");
    CHECK(unescape("\\101\\x42") == "AB");
}
