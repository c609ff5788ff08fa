#include "target/snapshot_target.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace snag {
namespace {

constexpr size_t kIovecs = 1024;  // IOV_MAX on Linux

uint64_t page_of(uint64_t addr) { return addr & ~(kSnapshotPage - 1); }

}  // namespace

size_t RecordingTarget::read(uint64_t addr, void* out, size_t len) {
    if (len) {
        uint64_t last = page_of(addr + len - 1);
        for (uint64_t p = page_of(addr); p <= last && p >= page_of(addr); p += kSnapshotPage) pages_.insert(p);
    }
    return inner_.read(addr, out, len);
}

SnapshotTarget::SnapshotTarget(Target& stopped, int pid, const std::set<uint64_t>& pages)
    : stopped_(stopped),
      process_(stopped.process()),
      threads_(stopped.threads()),
      mappings_(stopped.mappings()),
      auxv_(stopped.auxv()),
      signal_(stopped.signal()),
      warnings_(stopped.warnings()) {
    copy(pid, std::vector<uint64_t>(pages.begin(), pages.end()));
}

// Batches of single-page iovecs: one syscall copies up to 4 MiB. A batch stops at the first
// unreadable page, which becomes a hole; the copy resumes after it.
void SnapshotTarget::copy(int pid, const std::vector<uint64_t>& pages) {
    size_t done = 0;
    bool vm_readv = true;
    while (done < pages.size()) {
        size_t batch = std::min(kIovecs, pages.size() - done);
        std::vector<std::unique_ptr<uint8_t[]>> buffers(batch);
        iovec local[kIovecs], remote[kIovecs];
        for (size_t i = 0; i < batch; ++i) {
            buffers[i] = std::make_unique<uint8_t[]>(kSnapshotPage);
            local[i] = {buffers[i].get(), kSnapshotPage};
            remote[i] = {reinterpret_cast<void*>(pages[done + i]), kSnapshotPage};
        }
        size_t full = 0;
        if (vm_readv) {
            ++syscalls_;
            ssize_t got = ::process_vm_readv(pid, local, batch, remote, batch, 0);
            if (got < 0 && (errno == EPERM || errno == ENOSYS)) vm_readv = false;  // the target's own reads
            full = got > 0 ? static_cast<size_t>(got) / kSnapshotPage : 0;
        }
        if (!vm_readv)
            while (full < batch && stopped_.read(pages[done + full], buffers[full].get(), kSnapshotPage) == kSnapshotPage)
                ++full;
        for (size_t i = 0; i < full; ++i) data_[pages[done + i]] = std::move(buffers[i]);
        done += full;
        if (full < batch) data_[pages[done++]] = nullptr;  // unreadable: a hole
    }
}

size_t SnapshotTarget::read(uint64_t addr, void* out, size_t len) {
    auto* dest = static_cast<uint8_t*>(out);
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done, page = page_of(at);
        auto it = data_.find(page);
        if (it == data_.end()) {
            misses_.insert(page);
            return done;
        }
        if (!it->second) return done;
        size_t chunk = std::min<uint64_t>(len - done, kSnapshotPage - (at - page));
        std::memcpy(dest + done, it->second.get() + (at - page), chunk);
        done += chunk;
    }
    return done;
}

}  // namespace snag
