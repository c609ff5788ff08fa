// CommandHost: what the command language needs from a debugging session. Session implements it
// through SessionHost; unit tests use a fake with synthetic memory.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/error.hpp"

namespace snag::command {

// A C type the host knows by name (DWARF typedefs, structs); base types are built in.
struct HostType {
    enum class Kind { Signed, Unsigned, Bool, Char, Float, Pointer, Enum, Struct, Union, Array,
                      Function, Void, Other };
    std::string name;
    Kind kind = Kind::Other;
    uint64_t size = 0;
    std::string pointee;  // Pointer/Array: element type name
};

// A member of a struct or union: its byte offset and the C spelling of its type.
struct HostMember {
    std::string name;
    uint64_t offset = 0;
    std::string type;
    uint32_t bit_size = 0;    // bitfields only
    uint32_t bit_offset = 0;  // bitfields: bits after offset
};

using HostValue = std::variant<int64_t, std::string>;

class CommandHost {
public:
    virtual ~CommandHost() = default;

    // Commands registered by the host (Lua stdlib): multi-word names like "info threads".
    virtual std::vector<std::string> command_names() = 0;
    // Longest registered command starting `line`: {name, arguments}.
    virtual std::optional<std::pair<std::string, std::string>> match_command(std::string_view line) = 0;
    virtual Expected<void> run_command(std::string_view name, std::string_view args, std::ostream& out) = 0;
    // `lua CODE` / `=CODE`: returns the chunk's printed results (may be empty).
    virtual Expected<std::string> eval_lua(std::string_view code, std::ostream& out) = 0;

    // Register of the selected frame, gdb names without '$'.
    virtual Expected<uint64_t> register_value(std::string_view name) = 0;
    // A vector register of the selected thread (xmm0-15, ymm0-15, mxcsr) as little-endian bytes.
    virtual Expected<std::string> register_bytes(std::string_view name) {
        return fail("Invalid register `" + std::string(name) + "'");
    }
    // Exactly n bytes or an error naming the unreadable address.
    virtual Expected<std::string> read_memory(uint64_t addr, size_t n) = 0;
    virtual Expected<uint64_t> symbol_address(std::string_view name) = 0;
    // A local variable or argument of the selected frame, as `info locals`/`info args` print it
    // (a PyObject * as gdb's libpython shows it); a pointer keeps its address for expressions.
    struct Variable {
        std::string text;
        std::optional<uint64_t> pointer;
        std::string type;                 // declared type ("struct timespec", "int [20]"); "" unknown
        std::optional<uint64_t> address;  // where it lives, when in memory
    };
    virtual std::optional<Variable> frame_variable(std::string_view name) {
        (void)name;
        return std::nullopt;
    }
    // gdb's text of a value of DWARF type `type` at addr (structs, enums, floating point).
    virtual std::optional<std::string> typed_text(std::string_view type, uint64_t addr) {
        (void)type;
        (void)addr;
        return std::nullopt;
    }
    // "main+4" for an address inside a symbol; nullopt when none covers it.
    virtual std::optional<std::string> symbolic_address(uint64_t addr) = 0;
    // The function (sized ELF symbol) containing addr: name, start, end; for `disassemble`.
    struct FunctionBounds {
        std::string name;
        uint64_t start = 0;
        uint64_t end = 0;
    };
    virtual std::optional<FunctionBounds> function_bounds(uint64_t addr) {
        (void)addr;
        return std::nullopt;
    }
    virtual Expected<HostType> resolve_type(std::string_view name) = 0;
    // Member `member` of struct/union `type` (DWARF); anonymous members are searched through.
    virtual Expected<HostMember> member(std::string_view type, std::string_view member) = 0;

    // Convenience variables shared with Lua (name without '$').
    virtual std::optional<HostValue> convenience(std::string_view name) = 0;
    virtual void set_convenience(std::string_view name, HostValue value) = 0;

    // Ctrl-C was pressed: long loops stop at the next check.
    virtual bool interrupted() = 0;
};

}  // namespace snag::command
