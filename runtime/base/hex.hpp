// Numbers as gdb writes addresses and words: "0x1f"; a width pads with zeros ("0x000000000040112a").
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace snag {

inline std::string hex(uint64_t v, int width = 0) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%0*llx", width, static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace snag
