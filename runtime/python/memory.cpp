#include "python/memory.hpp"

#include <algorithm>
#include <cstring>

namespace snag::python {

const Memory::Page& Memory::page(uint64_t base) {
    auto it = pages_.find(base);
    if (it != pages_.end()) return it->second;
    Page p;
    p.data = std::make_unique<uint8_t[]>(kPage);
    p.valid = target_.read(base, p.data.get(), kPage);
    return pages_.emplace(base, std::move(p)).first->second;
}

bool Memory::read(uint64_t addr, void* out, size_t len) {
    auto* dst = static_cast<uint8_t*>(out);
    if (addr < kPage || addr + len < addr) return false;  // NULL page and wrap-around
    while (len > 0) {
        uint64_t base = addr & ~(kPage - 1);
        size_t in_page = addr - base;
        size_t take = std::min<size_t>(len, kPage - in_page);
        const Page& p = page(base);
        if (p.valid < in_page + take) return false;
        std::memcpy(dst, p.data.get() + in_page, take);
        dst += take;
        addr += take;
        len -= take;
    }
    return true;
}

std::string Memory::read_bytes(uint64_t addr, size_t len) {
    std::string out;
    out.reserve(std::min<size_t>(len, 1 << 20));
    char buf[512];
    while (out.size() < len) {
        size_t want = std::min(sizeof buf, len - out.size());
        if (!read(addr + out.size(), buf, want)) {
            // fall back to byte steps at the edge of readable memory
            for (size_t i = 0; i < want && read(addr + out.size(), buf, 1); ++i) out.push_back(buf[0]);
            break;
        }
        out.append(buf, want);
    }
    return out;
}

std::optional<std::string> Memory::cstring(uint64_t addr, size_t max) {
    std::string out;
    char c;
    while (out.size() < max) {
        if (!read(addr + out.size(), &c, 1)) return out.empty() ? std::nullopt : std::optional(out);
        if (c == '\0') return out;
        out.push_back(c);
    }
    return out;
}

}  // namespace snag::python
