// Remote memory as CPython walkers need it: cached pages, typed reads that fail softly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "target/target.hpp"

namespace snag::python {

class Memory {
public:
    explicit Memory(Target& target) : target_(target) {}

    // Reads through a page cache: structures are re-read many times during one walk.
    bool read(uint64_t addr, void* out, size_t len);
    std::string read_bytes(uint64_t addr, size_t len);  // shorter when memory ends early

    template <class T>
    std::optional<T> value(uint64_t addr) {
        T v;
        if (!read(addr, &v, sizeof v)) return std::nullopt;
        return v;
    }
    std::optional<uint64_t> u64(uint64_t addr) { return value<uint64_t>(addr); }
    uint64_t ptr(uint64_t addr) { return value<uint64_t>(addr).value_or(0); }
    std::optional<int64_t> i64(uint64_t addr) { return value<int64_t>(addr); }
    std::optional<int32_t> i32(uint64_t addr) { return value<int32_t>(addr); }
    std::optional<std::string> cstring(uint64_t addr, size_t max = 256);

    Target& target() { return target_; }
    size_t pages_read() const { return pages_.size(); }

private:
    static constexpr uint64_t kPage = 4096;
    struct Page {
        size_t valid = 0;  // bytes readable from the page start
        std::unique_ptr<uint8_t[]> data;
    };
    const Page& page(uint64_t base);

    Target& target_;
    std::unordered_map<uint64_t, Page> pages_;
};

}  // namespace snag::python
