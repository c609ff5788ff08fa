// Module Collection: the executable and shared objects a target has mapped.
#pragma once

#include <cstdint>
#include <string>

namespace snag {

enum class DebugSource {
    None,        // only .dynsym/.symtab of the file itself, if any
    Embedded,    // .debug_info in the mapped file
    BuildIdDir,  // DEBUGDIR/.build-id/xx/yyyy.debug (DEBUGDIR: $SNAG_DEBUG_FILE_DIRECTORY or /usr/lib/debug)
    DebugLink,   // .gnu_debuglink next to the file or under DEBUGDIR
    Debuginfod,  // fetched by build-id from $DEBUGINFOD_URLS into the debuginfod client cache
};

const char* to_string(DebugSource source);

struct Module {
    std::string path;        // as the target recorded it
    std::string local_path;  // where snag found it on this machine (sysroot applied); empty if missing
    uint64_t start = 0;      // lowest mapped address
    uint64_t end = 0;        // highest mapped address (exclusive)
    uint64_t bias = 0;       // load bias: runtime address - ELF virtual address
    std::string build_id;    // hex, from the file on disk (or the target's memory when the file is missing)
    std::string recorded_build_id;  // hex, read from the target's memory (core/live), empty if unreadable
    std::string debug_file;  // file holding DWARF, empty when none
    DebugSource debug_source = DebugSource::None;
    // A debug file found but refused (its build-id is not the module's), said once to the user.
    std::string debug_warning;
    // False when the file on disk differs from what the target mapped (build-id mismatch) or is missing.
    bool file_matches = true;
};

}  // namespace snag
