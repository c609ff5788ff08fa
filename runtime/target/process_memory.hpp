// process_memory: reads another process's memory with process_vm_readv (fallback /proc/PID/mem),
// through a small LRU page cache that is valid only while the process is stopped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

namespace snag {

class ProcessMemory {
public:
    static constexpr size_t kPageSize = 4096;

    // cache_pages = 0 disables caching (non-blocking mode: memory changes under us).
    ProcessMemory(int pid, size_t cache_pages);
    ~ProcessMemory();
    ProcessMemory(const ProcessMemory&) = delete;
    ProcessMemory& operator=(const ProcessMemory&) = delete;

    // Bytes readable from addr onward, up to len (stops at the first unreadable byte).
    size_t read(uint64_t addr, void* out, size_t len);
    // Bytes written from addr onward; invalidates the cache. Works on stopped or running tracees.
    size_t write(uint64_t addr, const void* data, size_t len);
    // Call whenever the process may have run since the last read.
    void invalidate();
    // Read through /proc/PID/mem from now on (what happens when process_vm_readv is refused).
    void use_proc_mem() { use_vm_readv_ = false; }

    struct Stats {
        uint64_t hits = 0;
        uint64_t misses = 0;
        uint64_t syscalls = 0;
    };
    const Stats& stats() const { return stats_; }

private:
    struct Page {
        bool readable = false;
        std::list<uint64_t>::iterator lru;
        std::unique_ptr<unsigned char[]> bytes;
    };

    size_t read_uncached(uint64_t addr, void* out, size_t len);
    size_t read_pages_batch(const std::vector<uint64_t>& page_addresses, std::vector<unsigned char*>& buffers);
    Page* find_page(uint64_t page_address);
    void fill_pages(uint64_t first_page, uint64_t last_page);
    Page& insert_page(uint64_t page_address);
    int mem_fd();

    int pid_;
    size_t capacity_;
    bool use_vm_readv_ = true;  // false once the kernel refused it (ENOSYS/EPERM)
    int mem_fd_ = -1;
    std::unordered_map<uint64_t, Page> pages_;
    std::list<uint64_t> lru_;  // most recently used first
    // Direct-mapped front for find_page: a hit costs a compare, no hashing, no LRU update.
    struct Recent {
        uint64_t page_address = ~0ull;
        Page* page = nullptr;
    };
    static constexpr size_t kRecent = 64;
    std::array<Recent, kRecent> recent_{};
    Recent& recent_slot(uint64_t page_address) { return recent_[(page_address / kPageSize) % kRecent]; }
    Stats stats_;
};

}  // namespace snag
