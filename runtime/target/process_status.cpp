// Process status from a core's NT_PRPSINFO or from /proc, one shape for both.
#include "target/process_status.hpp"

#include <sys/procfs.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "target/core_target.hpp"
#include "target/proc_fs.hpp"
#include "target/process_target.hpp"

namespace snag {
namespace {

std::string bounded(const char* text, size_t size) { return std::string(text, strnlen(text, size)); }

int status_field(const std::string& status, const char* key) {
    size_t at = status.find(key);
    return at == std::string::npos ? -1 : std::atoi(status.c_str() + at + std::strlen(key));
}

}  // namespace

// stat after the comm in parentheses: state, ppid, pgrp, session, ... flags (9), ... nice (19).
std::optional<ProcessStatus> read_process_status(int pid) {
    auto line = proc::read_file(proc::pid_path(pid, "stat"));
    if (!line) return std::nullopt;
    size_t close = line->rfind(')'), open = line->find('(');
    if (close == std::string::npos || open == std::string::npos || close + 3 >= line->size()) return std::nullopt;
    ProcessStatus out;
    out.pid = pid;
    out.fname = line->substr(open + 1, close - open - 1);
    out.state = (*line)[close + 2];
    out.zombie = out.state == 'Z';
    std::vector<long long> fields;
    char* end = nullptr;
    for (const char* p = line->c_str() + close + 3; *p && fields.size() < 17; p = end) {
        long long v = std::strtoll(p, &end, 10);
        if (end == p) break;
        fields.push_back(v);
    }
    if (fields.size() > 2) out.ppid = static_cast<int>(fields[0]), out.pgrp = static_cast<int>(fields[1]),
                           out.sid = static_cast<int>(fields[2]);
    if (fields.size() > 5) out.flags = static_cast<uint64_t>(fields[5]);
    if (fields.size() > 15) out.nice = static_cast<int>(fields[15]);
    if (auto status = proc::read_file(proc::pid_path(pid, "status"))) {
        out.uid = status_field(*status, "\nUid:");
        out.gid = status_field(*status, "\nGid:");
    }
    if (auto cmdline = proc::read_file(proc::pid_path(pid, "cmdline"))) out.psargs = proc::join_cmdline(*cmdline);
    return out;
}

std::optional<ProcessStatus> decode_psinfo(std::string_view desc) {
    elf_prpsinfo info;
    if (desc.size() < sizeof info) return std::nullopt;
    std::memcpy(&info, desc.data(), sizeof info);
    ProcessStatus out;
    out.pid = info.pr_pid;
    out.ppid = info.pr_ppid;
    out.pgrp = info.pr_pgrp;
    out.sid = info.pr_sid;
    out.uid = static_cast<int>(info.pr_uid);
    out.gid = static_cast<int>(info.pr_gid);
    out.state = info.pr_sname ? info.pr_sname : '?';
    out.zombie = info.pr_zomb != 0;
    out.nice = info.pr_nice;
    out.flags = info.pr_flag;
    out.fname = bounded(info.pr_fname, sizeof info.pr_fname);
    out.psargs = bounded(info.pr_psargs, sizeof info.pr_psargs);
    while (!out.psargs.empty() && out.psargs.back() == ' ') out.psargs.pop_back();
    return out;
}

std::optional<ProcessStatus> process_status(const Target& target) {
    if (const auto* core = dynamic_cast<const CoreTarget*>(&target)) return core->psinfo();
    if (dynamic_cast<const ProcessTarget*>(&target)) return read_process_status(target.process().pid);
    return std::nullopt;
}

}  // namespace snag
