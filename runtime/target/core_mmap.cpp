#include "target/core_mmap.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace snag {

FileMap::~FileMap() {
    if (base_) ::munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
}

Expected<FileMap> FileMap::adopt(int fd, const std::string& path) {
    FileMap map;
    map.fd_ = fd;
    struct stat st;
    if (::fstat(fd, &st) != 0) return fail("cannot stat " + path + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return fail(path + " is a directory, not a file");
    if (!S_ISREG(st.st_mode)) return fail(path + " is not a regular file");
    map.size_ = static_cast<uint64_t>(st.st_size);
    if (map.size_ == 0) return map;
    void* base = ::mmap(nullptr, map.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) return fail("cannot map " + path + " into memory: " + std::strerror(errno));
    map.base_ = base;
    return map;
}

Expected<FileMap> FileMap::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) return fail("no such file: " + path);
        if (err == EACCES) return fail("permission denied reading " + path);
        return fail("cannot open " + path + ": " + std::strerror(err));
    }
    return adopt(fd, path);
}

}  // namespace snag
