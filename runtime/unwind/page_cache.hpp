// A small direct-mapped cache of target pages: libunwind reads one word at a time, and a live
// target pays a system call per read without it.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "target/target.hpp"

namespace snag {

class PageCache {
public:
    static constexpr uint64_t kPageSize = 4096;
    static constexpr size_t kPages = 32;

    explicit PageCache(Target& target) : target_(target), pages_(kPages) {}

    // Forgets everything (a running target may have changed its memory).
    void clear() {
        for (auto& page : pages_) page.base = kEmpty;
    }

    bool read_word(uint64_t addr, uint64_t* out) {
        uint64_t base = addr & ~(kPageSize - 1);
        uint64_t offset = addr - base;
        if (offset + 8 > kPageSize) return target_.read_exact(addr, out, 8);
        Page& page = pages_[(base / kPageSize) % kPages];
        if (page.base != base) {
            page.base = base;
            page.valid = target_.read(base, page.bytes, kPageSize);
        }
        if (offset + 8 <= page.valid) {
            std::memcpy(out, page.bytes + offset, 8);
            return true;
        }
        // Some targets cannot serve a whole page at once; ask for the word itself.
        return target_.read_exact(addr, out, 8);
    }

private:
    static constexpr uint64_t kEmpty = ~uint64_t(0);
    struct Page {
        uint64_t base = kEmpty;
        size_t valid = 0;
        uint8_t bytes[kPageSize];
    };
    Target& target_;
    std::vector<Page> pages_;
};

}  // namespace snag
