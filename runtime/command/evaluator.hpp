// Evaluator: C-like expressions over the target (registers, memory, symbols), gdb's value
// history ($1, $, $$2) and convenience variables ($x).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "command/ast.hpp"
#include "command/host.hpp"
#include "command/value.hpp"

namespace snag::command {

class Evaluator {
public:
    explicit Evaluator(CommandHost& host) : host_(host) {}

    Expected<Value> evaluate(const Expr& e);
    // Parses then evaluates; syntax errors carry the line and a caret.
    Expected<Value> evaluate(std::string_view text);

    // Appends to the value history; returns its number (the N of $N).
    size_t record(const Value& v);
    std::optional<Value> variable(const std::string& name);  // name without '$'
    void set_variable(const std::string& name, const Value& v);
    std::vector<std::string> variable_names() const;  // without '$', for completion

    Expected<TypePtr> resolve_type(const std::string& name);
    // Reads type->size bytes at address into a value of that type.
    Expected<Value> load(TypePtr type, uint64_t address);
    Expected<std::string> read(uint64_t address, size_t n);
    std::optional<std::string> read_cstring(uint64_t address, size_t max = 200);
    PrintContext print_context();
    CommandHost& host() { return host_; }

private:
    Expected<Value> variable_value(const std::string& name);
    Expected<Value> register_value(const std::string& name, bool& found);
    Expected<Value> unary(const Expr& e);
    Expected<Value> binary(const Expr& e);
    Expected<Value> arithmetic(const std::string& op, Value a, Value b);
    Expected<Value> assign(const Expr& e);
    Expected<Value> cast(const Expr& e);
    Expected<Value> dereference(const Value& pointer);
    Expected<Value> member(const Expr& e);
    // Symbols of unknown type are an error, as in gdb; an array stands for its first element's address.
    Expected<Value> rvalue(Value v);
    Value frame_value(const std::string& name, const CommandHost::Variable& var);
    std::optional<Value> typed_frame_value(const CommandHost::Variable& var);
    Expected<TypePtr> resolve_array(const std::string& name);

    CommandHost& host_;
    std::vector<Value> history_;
    std::map<std::string, Value> variables_;
};

}  // namespace snag::command
