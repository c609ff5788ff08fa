// gdb's printf: a C format string applied to command-language values.
#pragma once

#include <string>
#include <string_view>

#include "command/evaluator.hpp"

namespace snag::command {

// args is everything after "printf": `"fmt", arg, ...`. Supports %d %i %u %x %X %o %c %s %p %%
// with flags, width, precision and h/l/ll/z length modifiers.
Expected<std::string> format_printf(Evaluator& eval, std::string_view args);

}  // namespace snag::command
