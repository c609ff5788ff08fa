// snag collect's capture: a core arriving on a pipe (the kernel's core_pattern "|snag collect
// ...") written compressed into a spool directory, within limits so a crash loop cannot fill
// the disk: a size per core, a number of cores per hour, a size for the whole spool.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"

namespace snag::triage {

struct CollectLimits {
    int64_t max_core_bytes = 4ll << 30;     // uncompressed bytes read from the pipe
    int max_per_hour = 20;
    int64_t max_spool_bytes = 8ll << 30;    // what the spool's files may take on disk
};

struct Collected {
    std::string path;       // the spool file (zstd), empty when nothing was kept
    int64_t bytes_in = 0;   // core bytes read
    std::string refused;    // why it was not kept ("" when kept)
};

// Reads the core from fd and writes SPOOL/<name>.core.zst. A refusal (a limit) is no error:
// Collected.refused says which limit, and the pipe is left unread (the kernel stops writing).
Expected<Collected> collect_core(int fd, const std::string& spool, const std::string& name,
                                 const CollectLimits& limits);

}  // namespace snag::triage
