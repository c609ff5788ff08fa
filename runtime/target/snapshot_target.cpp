#include "target/snapshot_target.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace snag {
namespace {

constexpr size_t kIovecs = 1024;  // IOV_MAX on Linux
constexpr uint64_t kStackPages = 16;  // 64 KiB: most stacks' frames down to the interpreter loop

uint64_t page_of(uint64_t addr) { return addr & ~(kSnapshotPage - 1); }

}  // namespace

size_t RecordingTarget::read(uint64_t addr, void* out, size_t len) {
    if (len) {
        uint64_t last = page_of(addr + len - 1);
        for (uint64_t p = page_of(addr); p <= last && p >= page_of(addr); p += kSnapshotPage) pages_.insert(p);
    }
    return inner_.read(addr, out, len);
}

SnapshotTarget::SnapshotTarget(std::unique_ptr<Target> stopped, int pid, const std::set<uint64_t>& pages)
    : stopped_(std::move(stopped)),
      process_(stopped_->process()),
      threads_(stopped_->threads()),
      mappings_(stopped_->mappings()),
      auxv_(stopped_->auxv()),
      signal_(stopped_->signal()),
      warnings_(stopped_->warnings()) {
    std::set<uint64_t> all = pages;
    // The innermost part of each thread's stack, which an unwinder reads from its registers:
    // the first walk ran without them.
    for (const auto& t : threads_)
        if (t.has_registers)
            for (uint64_t i = 0, p = page_of(t.regs.rsp - 128); i < kStackPages; ++i, p += kSnapshotPage) all.insert(p);
    copy(pid, std::vector<uint64_t>(all.begin(), all.end()));
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
            while (full < batch && stopped_->read(pages[done + full], buffers[full].get(), kSnapshotPage) == kSnapshotPage)
                ++full;
        for (size_t i = 0; i < full; ++i) data_[pages[done + i]] = std::move(buffers[i]);
        done += full;
        if (full < batch) data_[pages[done++]] = nullptr;  // unreadable: a hole
    }
}

bool SnapshotTarget::read_only(uint64_t page) const {
    for (const auto& m : mappings_)
        if (page >= m.start && page < m.end)
            return !m.path.empty() && m.path[0] == '/' && m.perms.size() > 1 && m.perms[1] != 'w';
    return false;
}

size_t SnapshotTarget::read(uint64_t addr, void* out, size_t len) {
    auto* dest = static_cast<uint8_t*>(out);
    size_t done = 0;
    while (done < len) {
        uint64_t at = addr + done, page = page_of(at);
        auto it = data_.find(page);
        if (it == data_.end() && read_only(page)) {  // code an unwinder reads: it cannot change
            auto bytes = std::make_unique<uint8_t[]>(kSnapshotPage);
            bool ok = stopped_->read(page, bytes.get(), kSnapshotPage) == kSnapshotPage;
            it = data_.emplace(page, ok ? std::move(bytes) : nullptr).first;
        }
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
