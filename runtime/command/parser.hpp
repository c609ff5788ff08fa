// Parsing the command language: expressions, printf arguments, scripts with blocks.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "command/ast.hpp"

namespace snag::command {

struct SyntaxError {
    std::string message;  // what was expected, e.g. "expected an expression"
    int line = 1;         // 1-based
    size_t column = 0;    // 0-based byte column in that line
    bool incomplete = false;  // the input ended inside a block: the REPL asks for more lines
};

std::expected<ExprPtr, SyntaxError> parse_expression(std::string_view text);
// `"format", arg, ...`: the first element is the format string (Kind::String).
std::expected<std::vector<ExprPtr>, SyntaxError> parse_printf(std::string_view text);
std::expected<std::vector<Node>, SyntaxError> parse_script(std::string_view text);

// "syntax error: MESSAGE" followed by the offending line and a caret under the column.
std::string describe(const SyntaxError& error, std::string_view source);

// Decodes C escapes (\n, \t, \\, \", \ooo, \xhh) as gdb's echo and string literals do.
std::string unescape(std::string_view text);

}  // namespace snag::command
