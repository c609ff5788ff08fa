// libFuzzer harness: the command language parser (scripts, expressions, printf formats) on
// arbitrary text must return a value or a SyntaxError, never crash, hang or throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "command/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto script = snag::command::parse_script(text); !script) (void)snag::command::describe(script.error(), text);
    if (auto expr = snag::command::parse_expression(text); !expr) (void)snag::command::describe(expr.error(), text);
    (void)snag::command::parse_printf(text);
    (void)snag::command::unescape(text);
    return 0;
}
