// Values of the command language: C-typed integers and pointers, printed the way gdb prints them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/error.hpp"

namespace snag::command {

struct CType;
using TypePtr = std::shared_ptr<const CType>;

struct CType {
    enum class Kind { Integer, Char, Bool, Pointer, Void, Code, Flags, Struct, Float, Unknown, Array };
    Kind kind = Kind::Integer;
    std::string name;      // C spelling as gdb shows it: "long", "char *", "void (*)()"
    uint64_t size = 8;     // bytes
    bool is_signed = true;
    TypePtr target;        // Pointer: the pointee; Array: the element
    uint64_t count = 0;    // Array: elements
    bool is_enum = false;  // an Integer that prints as its enumerator's name, as DWARF has it

    bool is_pointer() const { return kind == Kind::Pointer; }
    bool is_scalar() const { return kind == Kind::Integer || kind == Kind::Char || kind == Kind::Bool ||
                                    kind == Kind::Flags || kind == Kind::Pointer; }
};

namespace types {
TypePtr integer(const std::string& name, uint64_t size, bool is_signed);
TypePtr int_();
TypePtr unsigned_int();
TypePtr long_();
TypePtr unsigned_long();
TypePtr char_();
TypePtr void_();
TypePtr unknown();
TypePtr eflags();
TypePtr pointer_to(TypePtr target);  // "int *"; to an array: "int (*)[4]"
TypePtr array_of(TypePtr element, uint64_t count);  // "int [4]"; of "int [3]": "int [2][3]"
TypePtr code_pointer();  // gdb's type of $pc: void (*)()
TypePtr data_pointer();  // gdb's type of $sp: void *
// C base types and their pointers ("unsigned long", "char **", "uint8_t"); nullopt otherwise.
std::optional<TypePtr> builtin(const std::string& name);
}  // namespace types

struct Value {
    TypePtr type = types::void_();
    uint64_t bits = 0;               // the value, truncated to type->size
    std::optional<uint64_t> address; // lvalues: where it lives in the target
    std::string symbol;              // Unknown-typed symbols: the name, for errors
    std::string text;                // a frame's variable as `info locals` shows it: print shows this
    std::string raw;                 // vector registers, their lane arrays and 128-bit lanes: the bytes

    bool is_void() const { return type->kind == CType::Kind::Void; }
    int64_t as_signed() const;       // sign-extended from the type's size when signed
    bool is_true() const { return bits != 0; }
};

Value make_value(TypePtr type, uint64_t bits);
// Truncates and sign-extends raw bits into the type's width.
uint64_t normalize(const CType& type, uint64_t bits);

// Services printing needs from the target.
struct PrintContext {
    std::function<std::optional<std::string>(uint64_t)> symbolic;     // "main+4"
    std::function<std::optional<std::string>(uint64_t)> read_cstring;  // for char *
    // gdb's text of a value of a DWARF type (struct, enum, double) at an address.
    std::function<std::optional<std::string>(const std::string&, uint64_t)> typed_text;
};

// print with no /FMT: "42", "(void *) 0x7ffe...", "65 'A'", "0x... <message> \"hello\"".
Expected<std::string> format_value(const Value& value, const PrintContext& ctx);
// print/F: x d u o t c a z.
Expected<std::string> format_value(const Value& value, char format, const PrintContext& ctx);
// "<main+4>" suffix (with a leading space) or empty.
std::string symbol_suffix(uint64_t address, const PrintContext& ctx);
// gdb's spelling of a character constant: 'A', '\n', '\377'.
std::string char_literal(unsigned char c);
// gdb's quoting of a string: "a\"b\n".
std::string string_literal(const std::string& s);

}  // namespace snag::command
