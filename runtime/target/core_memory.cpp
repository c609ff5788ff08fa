// Core memory: PT_LOAD bytes first, then the mapped files on disk for what the core left out.
#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "target/core_target.hpp"

namespace snag {
namespace {

bool exists(const std::string& path) { return !path.empty() && ::access(path.c_str(), R_OK) == 0; }

template <class T>
const T* containing(const std::vector<T>& sorted, uint64_t addr, uint64_t T::*start, auto end_of) {
    auto it = std::upper_bound(sorted.begin(), sorted.end(), addr,
                               [start](uint64_t a, const T& item) { return a < item.*start; });
    if (it == sorted.begin()) return nullptr;
    --it;
    return addr < end_of(*it) ? &*it : nullptr;
}

}  // namespace

const CoreSegment* CoreTarget::segment_at(uint64_t addr) const {
    return containing(segments_, addr, &CoreSegment::vaddr, [](const CoreSegment& s) { return s.vaddr + s.memsz; });
}

const elf::FileMapping* CoreTarget::file_at(uint64_t addr) const {
    return containing(files_, addr, &elf::FileMapping::start, [](const elf::FileMapping& f) { return f.end; });
}

size_t CoreTarget::read_recorded(uint64_t addr, void* out, size_t len) const {
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done;
        if (at < addr) break;
        const CoreSegment* seg = segment_at(at);
        if (!seg) break;
        uint64_t off = at - seg->vaddr;
        if (off >= seg->present) break;
        size_t n = std::min<uint64_t>(len - done, seg->present - off);
        std::memcpy(static_cast<char*>(out) + done, core_.bytes().data() + seg->offset + off, n);
        done += n;
    }
    return done;
}

size_t CoreTarget::read(uint64_t addr, void* out, size_t len) {
    auto* dst = static_cast<char*>(out);
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done;
        if (at < addr) break;
        size_t want = len - done, n = 0;
        const CoreSegment* seg = segment_at(at);
        const elf::FileMapping* file = file_at(at);
        if (seg) {
            uint64_t off = at - seg->vaddr;
            if (off < seg->present) {
                n = std::min<uint64_t>(want, seg->present - off);
                std::memcpy(dst + done, core_.bytes().data() + seg->offset + off, n);
            } else if (off < seg->filesz) {
                break;  // cut off by truncation
            } else if (file) {
                // Left out by the core (read-only file-backed): the file on disk has it.
                uint64_t limit = std::min(seg->vaddr + seg->memsz, file->end) - at;
                n = read_from_file(*file, at, dst + done, std::min<uint64_t>(want, limit));
            } else if (seg->filesz > 0 || (seg->flags & PF_R)) {
                n = std::min<uint64_t>(want, seg->memsz - off);  // anonymous and not dumped: zeros
                std::memset(dst + done, 0, n);
            }
        } else if (file) {
            n = read_from_file(*file, at, dst + done, std::min<uint64_t>(want, file->end - at));
        }
        if (n == 0) break;
        done += n;
    }
    return done;
}

size_t CoreTarget::read_from_file(const elf::FileMapping& file, uint64_t addr, void* out, size_t len) {
    const FileMap* map = open_mapped_file(file.path);
    if (!map) return 0;
    uint64_t off = file.file_offset + (addr - file.start);
    if (off < file.file_offset || off >= map->size()) return 0;
    size_t n = std::min<uint64_t>(len, map->size() - off);
    std::memcpy(out, map->bytes().data() + off, n);
    return n;
}

const FileMap* CoreTarget::open_mapped_file(const std::string& recorded_path) {
    auto it = file_cache_.find(recorded_path);
    if (it == file_cache_.end()) {
        std::optional<FileMap> map;
        std::string local = local_path(recorded_path);
        if (!local.empty())
            if (auto opened = FileMap::open(local); opened && opened->size() > 0) map = std::move(*opened);
        it = file_cache_.emplace(recorded_path, std::move(map)).first;
    }
    return it->second ? &*it->second : nullptr;
}

std::string CoreTarget::local_path(const std::string& recorded_path) const {
    if (!options_.exe_override.empty() && !exe_recorded_.empty() && recorded_path == exe_recorded_)
        return exists(options_.exe_override) ? options_.exe_override : std::string();
    std::string root = options_.sysroot;
    while (!root.empty() && root.back() == '/') root.pop_back();
    // A core taken from outside a chroot already names its files under the root.
    bool under_root = !root.empty() && recorded_path.starts_with(root + "/");
    std::string candidate = under_root ? recorded_path : root + recorded_path;
    if (exists(candidate)) return candidate;
    // A file replaced since the dump shows as "PATH (deleted)"; the current file may still serve.
    const std::string deleted = " (deleted)";
    if (candidate.size() > deleted.size() && candidate.ends_with(deleted)) {
        candidate.resize(candidate.size() - deleted.size());
        if (exists(candidate)) return candidate;
    }
    return {};
}

}  // namespace snag
