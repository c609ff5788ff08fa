// FNV-1a 64: a stable hash for identities and bucket keys (the same on every machine and run).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace snag {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;

inline uint64_t fnv1a(uint64_t h, std::string_view bytes) {
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

inline std::string hex64(uint64_t h) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return hex;
}

}  // namespace snag
