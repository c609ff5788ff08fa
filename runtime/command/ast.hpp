// Syntax trees of the command language: expressions and script blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace snag::command {

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;

struct Expr {
    enum class Kind { Number, Char, String, Variable, Symbol, Unary, Binary, Assign, Cast, SizeOf, Index, Member };
    Kind kind = Kind::Number;
    uint64_t number = 0;      // Number / Char
    bool is_unsigned = false; // Number with a U suffix
    bool is_long = false;     // Number with an L suffix
    std::string text;         // Variable/Symbol name, String contents, operator, Cast/SizeOf type,
                              // Member: "." or "->" followed by the member name
    std::vector<ExprPtr> operands;
    size_t column = 0;        // 0-based column in the parsed text, for errors
};

// One statement of a script: a plain command line or a block with its body.
struct Node {
    enum class Kind { Line, Define, Document, If, While, Commands };
    Kind kind = Kind::Line;
    std::string text;        // Line: the command; Define/Document: the name; If/While: condition
    std::vector<Node> body;  // Document: Line nodes holding the raw documentation lines
    std::vector<Node> else_body;
    int line = 0;            // 1-based line in the source, for errors
};

}  // namespace snag::command
