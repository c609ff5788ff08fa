// Debuginfod: separate debug files fetched by build-id from the servers named in $DEBUGINFOD_URLS
// (elfutils' libdebuginfod, cached in $DEBUGINFOD_CACHE_PATH), for modules with none on this machine.
#pragma once

#include <string>

namespace snag {

struct DebuginfodFetch {
    std::string path;     // the debug file in the client's cache; empty when none was fetched
    std::string warning;  // why a lookup failed or stopped, said once per process; else empty
};

// The debug file of the module with this build-id (hex). Nothing is asked when $DEBUGINFOD_URLS is
// unset or empty, when libdebuginfod is missing, or once the time limit is spent: all fetches of one
// process share $SNAG_DEBUGINFOD_TIME_LIMIT seconds (default 60), so a slow server cannot stall
// `snag bt`. A progress line names module_path on stderr when it is a terminal.
DebuginfodFetch debuginfod_debug_file(const std::string& build_id, const std::string& module_path);

}  // namespace snag
