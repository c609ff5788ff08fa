// proc_fs: parsers for the /proc files a live target is described by (stat, status, maps, auxv).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "target/target.hpp"

namespace snag::proc {

// One /proc/PID/task/TID/stat line, the fields snag uses.
struct Stat {
    int tid = 0;
    std::string comm;  // may contain spaces and ')'
    char state = '?';
    int ppid = 0;
    uint64_t utime_ticks = 0;
    uint64_t stime_ticks = 0;
};

// The fields of /proc/PID/status that decide whether and how we may attach.
struct Status {
    std::string name;
    char state = '?';
    int tgid = 0;
    int ppid = 0;
    int tracer_pid = 0;
    int real_uid = -1;
    int effective_uid = -1;
    int namespace_pid = 0;  // last NSpid field: the id inside the innermost PID namespace
    int seccomp = -1;       // 0 off, 1 strict, 2 filter; -1 unknown
};

// Parses a stat line; comm spans from the first '(' to the LAST ')' (names may contain ')').
std::optional<Stat> parse_stat(std::string_view line);
std::optional<Status> parse_status(std::string_view text);
// One /proc/PID/maps line; paths may contain spaces and end in " (deleted)".
std::optional<Mapping> parse_maps_line(std::string_view line);
std::vector<Mapping> parse_maps(std::string_view text);
// Raw auxv bytes (pairs of uint64) up to and including AT_NULL.
std::vector<AuxvEntry> parse_auxv(std::string_view bytes);
// NUL-separated arguments joined with single spaces.
std::string join_cmdline(std::string_view bytes);

// Whole contents of a (pseudo) file; nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);
std::string pid_path(int pid, std::string_view leaf);  // "/proc/PID/leaf"
std::string task_path(int pid, int tid, std::string_view leaf);
// TIDs in /proc/PID/task, ascending; empty when the process is gone.
std::vector<int> list_tasks(int pid);
std::optional<Stat> read_task_stat(int pid, int tid);
std::optional<Status> read_status(int pid);
std::optional<Status> read_task_status(int pid, int tid);
std::string read_link(const std::string& path);  // empty on failure
// Clock ticks → seconds for utime/stime.
double ticks_to_seconds(uint64_t ticks);

}  // namespace snag::proc
