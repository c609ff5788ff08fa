#include "symbols/debug_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "base/fnv.hpp"

namespace snag {

namespace {

std::string base_dir() {
    if (const char* dir = getenv("SNAG_CACHE_DIR")) return std::string_view(dir) == "off" ? "" : dir;
    if (const char* xdg = getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/snag";
    if (const char* home = getenv("HOME"); home && *home == '/') return std::string(home) + "/.cache/snag";
    return "";
}

bool write_all(int fd, const void* data, size_t size) {
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

DebugCache DebugCache::from_environment() {
    std::string dir = base_dir();
    if (dir.empty()) return DebugCache("");
    dir += "/inflated";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || ::access(dir.c_str(), W_OK | X_OK) != 0) return DebugCache("");
    return DebugCache(dir);
}

std::string DebugCache::entry(const std::string& original, bool location_lists) const {
    struct stat st;
    if (!enabled() || ::stat(original.c_str(), &st) != 0) return "";
    char key[160];
    std::snprintf(key, sizeof key, "|%lld|%lld.%09ld|%llu|%llu|%d", static_cast<long long>(st.st_size),
                  static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec,
                  static_cast<unsigned long long>(st.st_ino), static_cast<unsigned long long>(st.st_dev),
                  location_lists ? 1 : 0);
    std::string base = std::filesystem::path(original).filename().string();
    return dir_ + "/" + hex64(fnv1a(kFnvOffset, original + key)) + "-" + base.substr(0, 64);
}

int DebugCache::open(const std::string& original, bool location_lists, uint64_t size) const {
    std::string path = entry(original, location_lists);
    if (path.empty()) return -1;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return -1;
    if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != size) {
        ::close(fd);
        return -1;
    }
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // recently used: trimmed last
    return fd;
}

void DebugCache::store(const std::string& original, bool location_lists, const void* data, size_t size) const {
    std::string path = entry(original, location_lists);
    if (path.empty()) return;
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    bool ok = write_all(fd, data, size);
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return;
    }
    trim();
}

void DebugCache::trim() const {
    struct Entry {
        std::filesystem::path path;
        std::filesystem::file_time_type used;
        uint64_t size;
    };
    std::vector<Entry> entries;
    uint64_t total = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
        std::error_code e1, e2;
        uint64_t size = e.file_size(e1);
        auto used = e.last_write_time(e2);
        if (e1 || e2) continue;
        entries.push_back({e.path(), used, size});
        total += size;
    }
    if (total <= kLimitBytes) return;
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
    for (const auto& e : entries) {
        if (total <= kLimitBytes) break;
        if (std::filesystem::remove(e.path, ec)) total -= e.size;
    }
}

}  // namespace snag
