// gdb's values of the x86_64 vector registers: $xmmN is union vec128 and $ymmN union vec256 of
// lane arrays (v8_float, v8_int32, ...), printed, indexed and formatted the way gdb does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.hpp"
#include "command/value.hpp"

namespace snag::command {

// "xmm7" → {16, 7}, "ymm15" → {32, 15}, "mxcsr" → {4, 0}; nullopt for other names.
std::optional<std::pair<size_t, size_t>> vector_register_slot(std::string_view name);
// A register value from its little-endian bytes: 16 → vec128, 32 → vec256, 4 → mxcsr flags.
Expected<Value> vector_register_value(std::string bytes);
// True for values that carry their bytes (unions, lane arrays, 128-bit lanes).
bool is_wide(const Value& v);
// $ymm0.v8_int32: the lane array (or vec128's uint128).
Expected<Value> vector_member(const Value& object, std::string_view name);
// $ymm0.v8_int32[3]: one lane.
Expected<Value> vector_element(const Value& array, int64_t index);
// Natural (format 0), 'x' or 'z', with gdb's `<repeats N times>` for runs of more than 10 lanes.
Expected<std::string> format_wide(const Value& v, char format);
// A bfloat16/half/float/double lane from its bits: %g with the format's decimal digits, inf, nan(0x…).
std::string float_text(const CType& type, uint64_t bits);

}  // namespace snag::command
