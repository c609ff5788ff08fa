#include "dump/memory_copy.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <climits>

namespace snag::dump {
namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kMaxIov = IOV_MAX;
// One iovec per remote range; huge ranges are split so a failing page costs little re-reading.
constexpr uint64_t kMaxPiece = 64ull << 20;

struct Piece {
    uint64_t addr;
    char* dest;
    uint64_t len;
};

}  // namespace

uint64_t copy_process_memory(int pid, const std::vector<CopyRequest>& requests) {
    std::vector<Piece> pending;
    for (const auto& r : requests)
        for (uint64_t off = 0; off < r.len; off += kMaxPiece)
            pending.push_back({r.addr + off, r.dest + off, std::min(kMaxPiece, r.len - off)});
    std::vector<iovec> local, remote;
    uint64_t copied = 0;
    size_t next = 0;
    while (next < pending.size()) {
        size_t batch = std::min(kMaxIov, pending.size() - next);
        local.clear();
        remote.clear();
        for (size_t i = next; i < next + batch; ++i) {
            local.push_back({pending[i].dest, pending[i].len});
            remote.push_back({reinterpret_cast<void*>(pending[i].addr), pending[i].len});
        }
        ssize_t got = ::process_vm_readv(pid, local.data(), batch, remote.data(), batch, 0);
        uint64_t left = got > 0 ? static_cast<uint64_t>(got) : 0;
        copied += left;
        // The kernel stops at the first unreadable byte: skip past that page and go on from there.
        size_t i = next;
        while (i < next + batch && left >= pending[i].len) left -= pending[i++].len;
        if (i == next + batch) {
            next = i;
            continue;
        }
        Piece& failed = pending[i];
        uint64_t skip = std::min(failed.len, (left / kPage + 1) * kPage);
        failed.addr += skip;
        failed.dest += skip;
        failed.len -= skip;
        next = failed.len == 0 ? i + 1 : i;
    }
    return copied;
}

}  // namespace snag::dump
