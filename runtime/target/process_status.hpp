// process_status: what `ps` and a core's NT_PRPSINFO say of a process (state, ids, nice, flags,
// name and arguments): from the note for cores, from /proc/PID/stat and status live.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace snag {

class Target;

struct ProcessStatus {
    int pid = 0, ppid = 0, pgrp = 0, sid = 0;
    int uid = -1, gid = -1;
    char state = '?';      // R, S, D, T, t, Z...
    bool zombie = false;
    int nice = 0;
    uint64_t flags = 0;    // the kernel's PF_* bits
    std::string fname;     // comm
    std::string psargs;    // arguments joined by spaces (a core keeps the first 80 bytes)
};

// /proc/PID/stat and status; nullopt when the process is gone.
std::optional<ProcessStatus> read_process_status(int pid);
// A core's NT_PRPSINFO descriptor (x86_64 elf_prpsinfo); nullopt when it is too short.
std::optional<ProcessStatus> decode_psinfo(std::string_view desc);
// The target's: the core's note, or the live process's /proc.
std::optional<ProcessStatus> process_status(const Target& target);

}  // namespace snag
