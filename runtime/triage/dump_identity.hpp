// What makes two files the same dump: the same path, size and mtime (a re-run), or the same
// content identity (a copy): a hash of the core's notes (registers, pids, signal, mapped files,
// auxv: what the kernel wrote about this one process at this one moment) and of the size its
// headers promise, so a zstd or gzip copy is the same dump and a cut copy is not.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"

namespace snag::triage {

struct DumpFile {
    std::string path;   // absolute
    int64_t size = 0, mtime_ns = 0;
};

// The file's absolute path, size and mtime; an error when it is not a readable regular file.
Expected<DumpFile> stat_dump(const std::string& path);

// "notes:<hex>:<size>[:cut:<file size>]" for an ELF core (plain, zstd or gzip); "" when the file has no readable
// ELF header or notes (the analysis then says why it cannot be read).
std::string content_identity(const DumpFile& file);

}  // namespace snag::triage
