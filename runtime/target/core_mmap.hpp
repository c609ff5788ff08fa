// A read-only memory map of a whole file: cores and the files they mapped are read through it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace snag {

class FileMap {
public:
    FileMap() = default;
    FileMap(FileMap&& other) noexcept { swap(other); }
    FileMap& operator=(FileMap&& other) noexcept {
        FileMap gone(std::move(*this));
        swap(other);
        return *this;
    }
    FileMap(const FileMap&) = delete;
    FileMap& operator=(const FileMap&) = delete;
    ~FileMap();

    // Maps fd (which the FileMap then owns); an empty file maps to an empty view.
    static Expected<FileMap> adopt(int fd, const std::string& path);
    static Expected<FileMap> open(const std::string& path);

    std::string_view bytes() const { return {static_cast<const char*>(base_), size_}; }
    uint64_t size() const { return size_; }

private:
    void swap(FileMap& other) noexcept {
        std::swap(fd_, other.fd_);
        std::swap(base_, other.base_);
        std::swap(size_, other.size_);
    }
    int fd_ = -1;
    void* base_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace snag
