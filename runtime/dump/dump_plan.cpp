#include "dump/dump_plan.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace snag::dump {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresent = 1ull << 63, kSwapped = 1ull << 62, kFileShared = 1ull << 61;
constexpr uint64_t kPfnMask = (1ull << 55) - 1;
constexpr uint64_t kHugeReservation = 64ull << 30;

// Reading an untouched anonymous page maps the shared zero page; find its frame number through a
// page of our own, so such pages (gcore's reads leave them everywhere) can stay holes too.
uint64_t zero_page_frame() {
    void* page = ::mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 0;
    volatile char touch = *static_cast<volatile char*>(page);
    (void)touch;
    uint64_t entry = 0;
    int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (::pread(fd, &entry, sizeof entry, static_cast<off_t>(reinterpret_cast<uint64_t>(page) / kPage * 8)) != 8)
            entry = 0;
        ::close(fd);
    }
    ::munmap(page, kPage);
    return (entry & kPresent) ? entry & kPfnMask : 0;
}

uint32_t flags_of(const std::string& perms) {
    uint32_t flags = 0;
    if (perms.size() > 0 && perms[0] == 'r') flags |= PF_R;
    if (perms.size() > 1 && perms[1] == 'w') flags |= PF_W;
    if (perms.size() > 2 && perms[2] == 'x') flags |= PF_X;
    return flags;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Anonymous memory as /proc/PID/maps names it: no path, or a bracketed pseudo-name.
bool is_anonymous(const Mapping& m) { return m.path.empty() || m.path[0] == '['; }

// Shared memory objects whose contents exist nowhere else (SysV shm, memfd, shared /dev/zero).
bool is_shared_memory(const Mapping& m) {
    return starts_with(m.path, "/SYSV") || starts_with(m.path, "/memfd:") || starts_with(m.path, "/dev/zero") ||
           starts_with(m.path, "/dev/shm/") || m.path.ends_with(" (deleted)");
}

void whole(PlannedSegment& seg) {
    seg.filesz = seg.end - seg.start;
    seg.runs.push_back({seg.start, seg.filesz});
}

bool worth_copying(const PageFlags& page) { return (page.present && !page.zero_page) || page.swapped; }

// Runs of pages worth copying; the rest stay holes that read back as zeros.
void runs_from_pages(PlannedSegment& seg, const std::vector<PageFlags>& pages) {
    seg.filesz = seg.end - seg.start;
    for (size_t i = 0; i < pages.size();) {
        if (!worth_copying(pages[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < pages.size() && worth_copying(pages[j])) ++j;
        seg.runs.push_back({seg.start + i * kPage, (j - i) * kPage});
        i = j;
    }
}

// Private file mappings that were written to (relocations, .data) hold anonymous copies of pages.
bool has_private_copies(const std::vector<PageFlags>& pages) {
    for (const auto& p : pages)
        if ((p.present && !p.file_or_shared && !p.zero_page) || p.swapped) return true;
    return false;
}

}  // namespace

Pagemap::Pagemap(int pid) {
    fd_ = ::open(("/proc/" + std::to_string(pid) + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
    zero_pfn_ = zero_page_frame();
}

Pagemap::~Pagemap() {
    if (fd_ >= 0) ::close(fd_);
}

bool Pagemap::read(uint64_t start, uint64_t end, std::vector<PageFlags>& out) {
    out.clear();
    if (fd_ < 0) return false;
    uint64_t count = (end - start) / kPage;
    buffer_.resize(count);
    uint64_t done = 0;
    while (done < count) {
        ssize_t n = ::pread(fd_, buffer_.data() + done, (count - done) * 8,
                            static_cast<off_t>((start / kPage + done) * 8));
        if (n <= 0) return false;
        done += static_cast<uint64_t>(n) / 8;
    }
    out.resize(count);
    for (uint64_t i = 0; i < count; ++i)
        out[i] = {(buffer_[i] & kPresent) != 0, (buffer_[i] & kSwapped) != 0, (buffer_[i] & kFileShared) != 0,
                  zero_pfn_ != 0 && (buffer_[i] & kPresent) && (buffer_[i] & kPfnMask) == zero_pfn_};
    return true;
}

DumpPlanner::DumpPlanner(int pid, PlanOptions options) : pid_(pid), options_(options) {
    if (pid > 0) pagemap_.emplace(pid);
}

// The kernel keeps the first page only of ELF files (headers, build-id); map_files sees the very
// file mapped, even when deleted or in another mount namespace.
bool DumpPlanner::starts_with_elf_header(const Mapping& m) {
    auto known = elf_files_.find(m.path);
    if (known != elf_files_.end()) return known->second;
    char head[SELFMAG] = {};
    std::string via = m.path;
    if (pid_ > 0) {
        char range[64];
        std::snprintf(range, sizeof range, "%lx-%lx", static_cast<unsigned long>(m.start),
                      static_cast<unsigned long>(m.end));
        via = "/proc/" + std::to_string(pid_) + "/map_files/" + range;
    }
    int fd = ::open(via.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fd = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
    bool elf = fd >= 0 && ::pread(fd, head, sizeof head, 0) == SELFMAG && std::memcmp(head, ELFMAG, SELFMAG) == 0;
    if (fd >= 0) ::close(fd);
    elf_files_[m.path] = elf;
    return elf;
}

void DumpPlanner::plan(const std::vector<Mapping>& mappings, CoreContents& contents) {
    const PlanOptions& options = options_;
    std::vector<PageFlags> pages;
    auto read_pages = [&](const Mapping& m) { return pagemap_ && pagemap_->read(m.start, m.end, pages); };
    for (const auto& m : mappings) {
        if (m.path == "[vsyscall]" || m.end <= m.start) continue;
        if (!m.path.empty() && m.path[0] == '/')
            contents.files.push_back({m.start, m.end, m.file_offset, m.path});
        PlannedSegment seg{.start = m.start, .end = m.end, .flags = flags_of(m.perms)};
        bool readable = seg.flags & PF_R, writable = seg.flags & PF_W;
        bool shared = m.perms.size() > 3 && m.perms[3] == 's';
        if (!readable || m.path == "[vvar]" || m.path == "[vvar_vclock]") {
            // No bytes: unreadable guards, and the kernel's clock page that faults when read remotely.
        } else if (m.path == "[vdso]") {
            whole(seg);  // debuggers need its unwind info for signal frames
        } else if (is_anonymous(m) && m.end - m.start > kHugeReservation) {
            // Sanitizer shadows and NORESERVE arenas (terabytes, nearly all untouched): too big to
            // scan or copy while the process is stopped; readers see zeros.
        } else if (is_anonymous(m)) {
            if (options.holes_for_untouched_pages && !shared && read_pages(m))
                runs_from_pages(seg, pages);
            else
                whole(seg);
        } else if (shared ? is_shared_memory(m) : (writable || (read_pages(m) && has_private_copies(pages)))) {
            whole(seg);
        } else if (m.file_offset == 0 && starts_with_elf_header(m)) {
            // The first page of a file mapping holds the ELF headers and build-id, as the kernel keeps it.
            seg.filesz = kPage;
            seg.runs.push_back({seg.start, kPage});
        }
        contents.segments.push_back(std::move(seg));
    }
}

}  // namespace snag::dump
