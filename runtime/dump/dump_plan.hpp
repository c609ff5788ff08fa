// dump_plan: which bytes of each mapping go into the core, decided like the kernel and gcore do,
// plus holes for pages the process never touched (from /proc/PID/pagemap).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dump/core_writer.hpp"
#include "target/target.hpp"

namespace snag::dump {

// Pagemap bits of one page (see Documentation/admin-guide/mm/pagemap.rst).
struct PageFlags {
    bool present = false;
    bool swapped = false;
    bool file_or_shared = false;
    bool zero_page = false;  // mapped to the kernel's shared zero page: read, never written
};

// Reads /proc/PID/pagemap for [start, end); nullopt when it cannot be read (then assume all present).
class Pagemap {
public:
    explicit Pagemap(int pid);
    ~Pagemap();
    Pagemap(const Pagemap&) = delete;
    Pagemap& operator=(const Pagemap&) = delete;
    bool read(uint64_t start, uint64_t end, std::vector<PageFlags>& out);

private:
    int fd_ = -1;
    uint64_t zero_pfn_ = 0;  // 0 when page frame numbers are hidden from us (not CAP_SYS_ADMIN)
    std::vector<uint64_t> buffer_;
};

struct PlanOptions {
    bool holes_for_untouched_pages = true;
};

// Decides, per mapping, which bytes go into the core. Keep one planner for the preview (before the
// stop) and the real plan (while stopped) so the file checks are cached outside the stop.
class DumpPlanner {
public:
    // pid 0: no pagemap (every page counts as touched), files read by their recorded path.
    DumpPlanner(int pid, PlanOptions options);
    // One PlannedSegment per mapping (vsyscall excluded) and the NT_FILE entries.
    void plan(const std::vector<Mapping>& mappings, CoreContents& contents);

private:
    bool starts_with_elf_header(const Mapping& m);

    int pid_;
    PlanOptions options_;
    std::optional<Pagemap> pagemap_;
    std::map<std::string, bool> elf_files_;
};

}  // namespace snag::dump
