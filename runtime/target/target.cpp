#include "target/target.hpp"

#include <sys/stat.h>

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

const Thread* Target::thread_seen_inside(int tid) const {
    if (tid <= 0) return nullptr;
    if (!process().namespace_pid) return thread(tid);
    for (const auto& t : threads())
        if (t.namespace_tid == tid) return &t;
    return nullptr;
}

Expected<std::unique_ptr<Target>> open_target(const std::string& spec, const TargetOptions& options) {
    struct stat root;
    if (!options.sysroot.empty() && (::stat(options.sysroot.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)))
        return fail("--sysroot " + options.sysroot + " is not a directory (it should hold the target's files, "
                    "as DIR/usr/lib/...)");
    bool digits = !spec.empty() && std::all_of(spec.begin(), spec.end(),
                                               [](unsigned char c) { return std::isdigit(c); });
    if (digits) return attach_process(std::stoi(spec), options);
    return open_core(spec, options);
}

}  // namespace snag
