// UTF-8 sequences in target strings: gdb (in a UTF-8 locale) prints a valid one as it is and
// escapes the other bytes ("\377").
#pragma once

#include <cstddef>
#include <string>

namespace snag {

// Length of the valid UTF-8 sequence of two or more bytes at chars[i], 0 if none.
inline size_t utf8_length(const std::string& chars, size_t i) {
    auto c = static_cast<unsigned char>(chars[i]);
    size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (n == 0 || i + n > chars.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(chars[i + k]) & 0xc0) != 0x80) return 0;
    return n;
}

}  // namespace snag
