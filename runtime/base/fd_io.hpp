// Whole writes to a descriptor: write(2) may write less than asked, or be interrupted.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace snag {

// False when the descriptor refuses the bytes (errno says why).
inline bool write_all(int fd, const void* data, size_t len) {
    auto* p = static_cast<const char*>(data);
    while (len > 0) {
        ssize_t n = ::write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace snag
