// Compressed cores (systemd-coredump's .zst, gzip) become an unlinked temp file that can be mmapped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace snag {

enum class Compression { None, Zstd, Gzip };

// Recognises the format from the first bytes of the file.
Compression detect_compression(std::string_view head);

// Streams the compressed file at fd into an unlinked file in $TMPDIR and returns its descriptor.
// A stream that ends early is kept (the core parser judges it) and noted in warnings.
Expected<int> decompress_to_temp(int fd, Compression format, const std::string& path,
                                 std::vector<std::string>& warnings);

// The first max_bytes decompressed bytes (fewer when the stream is shorter), without a temp file.
Expected<std::string> decompress_prefix(int fd, Compression format, const std::string& path, size_t max_bytes);

}  // namespace snag
