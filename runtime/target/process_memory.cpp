#include "target/process_memory.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace snag {
namespace {

constexpr uint64_t kPageMask = ~static_cast<uint64_t>(ProcessMemory::kPageSize - 1);
constexpr size_t kMaxIovecs = 1024;  // IOV_MAX

bool vm_readv_refused(int error) { return error == ENOSYS || error == EPERM; }

}  // namespace

ProcessMemory::ProcessMemory(int pid, size_t cache_pages) : pid_(pid), capacity_(cache_pages) {
    pages_.reserve(cache_pages);
}

ProcessMemory::~ProcessMemory() {
    if (mem_fd_ >= 0) ::close(mem_fd_);
}

int ProcessMemory::mem_fd() {
    if (mem_fd_ < 0) mem_fd_ = ::open(("/proc/" + std::to_string(pid_) + "/mem").c_str(), O_RDWR | O_CLOEXEC);
    if (mem_fd_ < 0) mem_fd_ = ::open(("/proc/" + std::to_string(pid_) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
    return mem_fd_;
}

void ProcessMemory::invalidate() {
    pages_.clear();
    lru_.clear();
    recent_.fill(Recent{});
}

size_t ProcessMemory::read(uint64_t addr, void* out, size_t len) {
    if (len == 0) return 0;
    if (addr + len < addr) len = static_cast<size_t>(-addr);  // never wrap around the address space
    uint64_t first_page = addr & kPageMask;
    uint64_t last_page = (addr + len - 1) & kPageMask;
    size_t page_count = static_cast<size_t>((last_page - first_page) / kPageSize + 1);
    // Large reads would only churn the cache: take them straight from the process.
    if (capacity_ == 0 || page_count > capacity_ / 4) return read_uncached(addr, out, len);
    // The common case: a small read inside one page that is already cached.
    if (page_count == 1) {
        if (Page* page = find_page(first_page)) {
            if (!page->readable) return 0;
            std::memcpy(out, page->bytes.get() + (addr - first_page), len);
            return len;
        }
    }

    fill_pages(first_page, last_page);
    auto* dest = static_cast<unsigned char*>(out);
    size_t done = 0;
    for (uint64_t page_address = first_page; done < len; page_address += kPageSize) {
        Page* page = find_page(page_address);
        if (!page || !page->readable) break;
        size_t offset = (addr + done) - page_address;
        size_t chunk = std::min(len - done, kPageSize - offset);
        std::memcpy(dest + done, page->bytes.get() + offset, chunk);
        done += chunk;
    }
    return done;
}

ProcessMemory::Page* ProcessMemory::find_page(uint64_t page_address) {
    Recent& slot = recent_slot(page_address);
    if (slot.page_address == page_address) {
        ++stats_.hits;
        return slot.page;
    }
    auto it = pages_.find(page_address);
    if (it == pages_.end()) return nullptr;
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    slot = {page_address, &it->second};
    return slot.page;
}

ProcessMemory::Page& ProcessMemory::insert_page(uint64_t page_address) {
    if (pages_.size() >= capacity_) {
        uint64_t victim = lru_.back();
        lru_.pop_back();
        pages_.erase(victim);
        Recent& slot = recent_slot(victim);
        if (slot.page_address == victim) slot = Recent{};
    }
    lru_.push_front(page_address);
    Page& page = pages_[page_address];
    page.lru = lru_.begin();
    return page;
}

// Reads every missing page of [first_page, last_page] with as few syscalls as possible.
void ProcessMemory::fill_pages(uint64_t first_page, uint64_t last_page) {
    std::vector<uint64_t> missing;
    for (uint64_t page_address = first_page;; page_address += kPageSize) {
        // Touching cached pages keeps them at the LRU front, so inserting the missing ones cannot evict them.
        if (!find_page(page_address)) missing.push_back(page_address);
        if (page_address == last_page) break;
    }
    if (missing.empty()) return;
    stats_.misses += missing.size();
    std::vector<unsigned char*> buffers;
    for (uint64_t page_address : missing) {
        Page& page = insert_page(page_address);
        page.bytes = std::make_unique<unsigned char[]>(kPageSize);
        buffers.push_back(page.bytes.get());
    }
    size_t readable = read_pages_batch(missing, buffers);
    for (size_t i = 0; i < missing.size(); ++i) {
        Page& page = pages_[missing[i]];
        page.readable = i < readable;
        if (!page.readable) page.bytes.reset();  // remember the hole, drop the memory
    }
}

// Returns how many leading pages were read completely; pages after the first hole count as holes
// (callers stop at the first hole anyway).
size_t ProcessMemory::read_pages_batch(const std::vector<uint64_t>& page_addresses,
                                       std::vector<unsigned char*>& buffers) {
    size_t done = 0;
    while (done < page_addresses.size()) {
        size_t batch = std::min(kMaxIovecs, page_addresses.size() - done);
        if (!use_vm_readv_) {
            for (size_t i = 0; i < batch; ++i) {
                if (read_uncached(page_addresses[done + i], buffers[done + i], kPageSize) != kPageSize) return done + i;
            }
            done += batch;
            continue;
        }
        iovec local[kMaxIovecs];
        iovec remote[kMaxIovecs];
        for (size_t i = 0; i < batch; ++i) {
            local[i] = {buffers[done + i], kPageSize};
            remote[i] = {reinterpret_cast<void*>(page_addresses[done + i]), kPageSize};
        }
        ++stats_.syscalls;
        ssize_t got = ::process_vm_readv(pid_, local, batch, remote, batch, 0);
        if (got < 0 && vm_readv_refused(errno)) {
            use_vm_readv_ = false;
            continue;  // redo this batch through /proc/PID/mem
        }
        size_t full_pages = got < 0 ? 0 : static_cast<size_t>(got) / kPageSize;
        done += full_pages;
        if (full_pages < batch) return done;
    }
    return done;
}

size_t ProcessMemory::read_uncached(uint64_t addr, void* out, size_t len) {
    if (use_vm_readv_) {
        iovec local{out, len};
        iovec remote{reinterpret_cast<void*>(addr), len};
        ++stats_.syscalls;
        ssize_t got = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
        if (got >= 0) return static_cast<size_t>(got);
        if (!vm_readv_refused(errno)) return 0;
        use_vm_readv_ = false;
    }
    int fd = mem_fd();
    if (fd < 0) return 0;
    auto* dest = static_cast<unsigned char*>(out);
    size_t done = 0;
    while (done < len) {
        // Page by page so a hole ends the read instead of failing all of it.
        uint64_t at = addr + done;
        size_t chunk = std::min(len - done, kPageSize - (at & (kPageSize - 1)));
        ++stats_.syscalls;
        ssize_t got = ::pread(fd, dest + done, chunk, static_cast<off_t>(at));
        if (got <= 0) break;
        done += static_cast<size_t>(got);
        if (static_cast<size_t>(got) < chunk) break;
    }
    return done;
}

size_t ProcessMemory::write(uint64_t addr, const void* data, size_t len) {
    invalidate();
    // /proc/PID/mem writes through read-only mappings (code), which process_vm_writev cannot.
    int fd = mem_fd();
    if (fd >= 0) {
        ssize_t wrote = ::pwrite(fd, data, len, static_cast<off_t>(addr));
        if (wrote > 0) return static_cast<size_t>(wrote);
    }
    iovec local{const_cast<void*>(data), len};
    iovec remote{reinterpret_cast<void*>(addr), len};
    ssize_t wrote = ::process_vm_writev(pid_, &local, 1, &remote, 1, 0);
    return wrote < 0 ? 0 : static_cast<size_t>(wrote);
}

}  // namespace snag
