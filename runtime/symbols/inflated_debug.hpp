// Inflated debug files: copies of ELF files whose compressed DWARF sections are already inflated.
//
// libdw 0.188 inflates every compressed .debug_* section with zlib when it opens a file, one
// after the other, including location lists snag never reads. For python3.11's and libc's
// -dbg files that is most of `snag bt`'s time. Here the sections are inflated with libdeflate
// (about 3x zlib's speed) on worker threads, all files of a batch at once, into an anonymous
// in-memory file that libdwfl then opens like the file on disk. The copies are kept on disk
// between runs (debug_cache.hpp), so later runs map them instead of inflating again.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "symbols/debug_cache.hpp"

namespace snag {

class InflatedDebugFiles {
public:
    InflatedDebugFiles() = default;
    InflatedDebugFiles(const InflatedDebugFiles&) = delete;
    InflatedDebugFiles& operator=(const InflatedDebugFiles&) = delete;
    ~InflatedDebugFiles();

    // Inflates the files not prepared yet, in parallel. Files without compressed DWARF are
    // remembered as such (their descriptor is the file itself).
    void prepare(const std::vector<std::string>& paths);

    // Whether open() prepares a file not prepared yet (default) or hands out the file itself.
    void inflate_on_open(bool on) { inflate_on_open_ = on; }
    // Whether copies keep .debug_loc/.debug_loclists (locals and arguments read them).
    void keep_location_lists(bool on) { location_lists_ = on; }

    // A descriptor the caller owns: the inflated copy of path (prepared now if it was not and
    // inflate_on_open), else the file itself, also when it has nothing to inflate or inflating
    // failed. -1 if it cannot be opened.
    int open(const std::string& path);

private:
    const DebugCache& cache();  // from the environment, on first use
    std::optional<DebugCache> cache_;
    bool inflate_on_open_ = true;
    bool location_lists_ = false;
    std::map<std::string, int> images_;  // path -> the inflated copy (memfd or cache file), -1: the file
};

}  // namespace snag
