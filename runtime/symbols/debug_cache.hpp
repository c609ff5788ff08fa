// debug_cache: inflated debug files kept on disk between runs, so that the second and every later
// snag on the same binaries (a triage batch, bt then py-bt then analyze) maps the inflated DWARF
// instead of inflating it again. An entry is named by the original file's identity (path, size,
// mtime, inode) and by whether it keeps location lists: an upgraded -dbg package gets new
// entries, the old ones age out. Entries are written whole and renamed into place, so concurrent
// snag processes never see half a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace snag {

class DebugCache {
public:
    // $SNAG_CACHE_DIR, else $XDG_CACHE_HOME/snag, else $HOME/.cache/snag; SNAG_CACHE_DIR=off (or
    // no usable directory) turns the cache off.
    static DebugCache from_environment();
    explicit DebugCache(std::string dir) : dir_(std::move(dir)) {}

    bool enabled() const { return !dir_.empty(); }
    // A descriptor of the cached inflated copy of original when one of exactly size bytes is
    // there (anything else is rebuilt), -1 otherwise.
    int open(const std::string& original, bool location_lists, uint64_t size) const;
    // Keeps data as original's inflated copy; failures (no space, read-only) are silent: the
    // cache only saves time. Trims the cache to its size limit afterwards.
    void store(const std::string& original, bool location_lists, const void* data, size_t size) const;

    static constexpr uint64_t kLimitBytes = 2ull << 30;  // least recently used entries go first

private:
    std::string entry(const std::string& original, bool location_lists) const;  // "" if unknown
    void trim() const;
    std::string dir_;  // ".../inflated"; empty: off
};

}  // namespace snag
