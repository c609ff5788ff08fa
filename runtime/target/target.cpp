#include "target/target.hpp"

#include <algorithm>
#include <cctype>

namespace snag {

std::optional<std::string> Target::read_cstring(uint64_t addr, size_t max) {
    std::string out;
    char chunk[256];
    while (out.size() < max) {
        size_t want = std::min(sizeof chunk, max - out.size());
        size_t got = read(addr + out.size(), chunk, want);
        if (got == 0) break;
        for (size_t i = 0; i < got; ++i) {
            if (chunk[i] == '\0') return out;
            out.push_back(chunk[i]);
        }
        if (got < want) break;
    }
    if (out.empty()) {
        char first;
        if (read(addr, &first, 1) != 1) return std::nullopt;
    }
    return out;
}

const Thread* Target::thread(int tid) const {
    for (const auto& t : threads())
        if (t.tid == tid) return &t;
    return nullptr;
}

Expected<std::unique_ptr<Target>> open_target(const std::string& spec, const TargetOptions& options) {
    bool digits = !spec.empty() && std::all_of(spec.begin(), spec.end(),
                                               [](unsigned char c) { return std::isdigit(c); });
    if (digits) return attach_process(std::stoi(spec), options);
    return open_core(spec, options);
}

}  // namespace snag
