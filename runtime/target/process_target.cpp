#include "target/process_target.hpp"

#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>

#include "target/attach_registry.hpp"
#include "target/proc_fs.hpp"
#include "target/signal_names.hpp"
#include "target/vector_registers.hpp"

namespace snag {
namespace {

constexpr size_t kCachePages = 512;  // 2 MiB: the working set of a stack walk plus object reads
constexpr std::string_view kDeleted = " (deleted)";

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string without_deleted(std::string_view path) {
    if (ends_with(path, kDeleted)) path.remove_suffix(kDeleted.size());
    return std::string(path);
}

bool file_exists(const std::string& path, struct stat* info = nullptr) {
    struct stat local;
    return ::stat(path.c_str(), info ? info : &local) == 0;
}

std::string hex(uint64_t value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%llx", static_cast<unsigned long long>(value));
    return buffer;
}

}  // namespace

ProcessTarget::ProcessTarget(int pid, const TargetOptions& options, std::vector<AttachedThread> threads,
                             std::vector<std::string> warnings)
    : pid_(pid),
      options_(options),
      attached_(std::move(threads)),
      warnings_(std::move(warnings)),
      memory_(pid, options.non_blocking ? 0 : kCachePages),
      stopped_(!options.non_blocking) {
    if (options_.non_blocking)
        warnings_.push_back("--no-stop: process " + std::to_string(pid) +
                            " keeps running, so registers are unavailable and memory may change while it is read.");
    load_process_info();
    load_threads();
    load_mappings_and_auxv();
}

ProcessTarget::~ProcessTarget() { detach(); }

void ProcessTarget::load_process_info() {
    process_.pid = pid_;
    if (auto status = proc::read_status(pid_)) {
        process_.ppid = status->ppid;
        process_.uid = status->real_uid;
        process_.name = status->name;
        if (status->namespace_pid && status->namespace_pid != pid_) process_.namespace_pid = status->namespace_pid;
    }
    if (auto comm = proc::read_file(proc::pid_path(pid_, "comm"))) {
        while (!comm->empty() && comm->back() == '\n') comm->pop_back();
        process_.name = *comm;
    }
    if (auto cmdline = proc::read_file(proc::pid_path(pid_, "cmdline"))) process_.cmdline = proc::join_cmdline(*cmdline);
    process_.executable = proc::read_link(proc::pid_path(pid_, "exe"));
    if (ends_with(process_.executable, kDeleted))
        warnings_.push_back("the executable " + without_deleted(process_.executable) +
                            " was deleted or replaced after the process started; reading it through /proc/" +
                            std::to_string(pid_) + "/exe.");
}

void ProcessTarget::load_threads() {
    threads_.clear();
    signal_.reset();
    for (const auto& attached : attached_) {
        Thread thread;
        thread.tid = attached.tid;
        thread.name = attached.stat.comm;
        thread.state = attached.stat.state;
        thread.has_cpu_times = true;
        thread.user_seconds = proc::ticks_to_seconds(attached.stat.utime_ticks);
        thread.system_seconds = proc::ticks_to_seconds(attached.stat.stime_ticks);
        thread.pending_signal = attached.pending_signal;
        if (process_.namespace_pid)
            if (auto status = proc::read_task_status(pid_, attached.tid)) thread.namespace_tid = status->namespace_pid;
        if (attached.traced && stopped_) {
            iovec regs{&thread.regs, sizeof thread.regs};
            thread.has_registers =
                ::ptrace(PTRACE_GETREGSET, attached.tid, reinterpret_cast<void*>(NT_PRSTATUS), &regs) == 0;
            if (thread.has_registers)
                if (auto area = read_xstate_area(attached.tid))
                    if (auto v = decode_xsave(*area)) thread.vector = *v;
        }
        if (attached.pending_signal != 0 && !signal_) {
            siginfo_t info{};
            SignalInfo signal{attached.pending_signal};
            if (::ptrace(PTRACE_GETSIGINFO, attached.tid, nullptr, &info) == 0) {
                siginfo_ = info;
                signal.code = info.si_code;
                signal.error = info.si_errno;
                if (signal_is_fault(info.si_signo, info.si_code)) {
                    signal.fault_address = reinterpret_cast<uint64_t>(info.si_addr);
                } else if (signal_has_sender(info.si_code)) {
                    signal.sender_pid = info.si_pid;
                    signal_sender_uid_ = static_cast<int>(info.si_uid);
                }
            }
            signal_ = signal;
        }
        threads_.push_back(std::move(thread));
    }
}

void ProcessTarget::load_mappings_and_auxv() {
    if (auto maps = proc::read_file(proc::pid_path(pid_, "maps"))) {
        mappings_ = proc::parse_maps(*maps);
    } else {
        warnings_.push_back("cannot read /proc/" + std::to_string(pid_) + "/maps; no modules will be found.");
    }
    if (auto auxv = proc::read_file(proc::pid_path(pid_, "auxv"))) auxv_ = proc::parse_auxv(*auxv);
}

size_t ProcessTarget::read(uint64_t addr, void* out, size_t len) {
    if (!stopped_) memory_.invalidate();  // a running process: nothing cached is trustworthy
    return memory_.read(addr, out, len);
}

size_t ProcessTarget::write(uint64_t addr, const void* data, size_t len) { return memory_.write(addr, data, len); }

void ProcessTarget::refresh() {
    memory_.invalidate();
    for (auto& attached : attached_) {
        if (auto stat = proc::read_task_stat(pid_, attached.tid)) {
            attached.stat.utime_ticks = stat->utime_ticks;
            attached.stat.stime_ticks = stat->stime_ticks;
            attached.stat.comm = stat->comm;
            if (!stopped_) attached.stat.state = stat->state;
        }
    }
    load_threads();
    load_mappings_and_auxv();
}

void ProcessTarget::adopt_thread(int tid) {
    for (const auto& attached : attached_)
        if (attached.tid == tid && attached.traced) return;
    AttachedThread thread;
    thread.tid = tid;
    if (auto stat = proc::read_task_stat(pid_, tid)) thread.stat = std::move(*stat);
    thread.traced = true;
    attached_.push_back(std::move(thread));
}

void ProcessTarget::forget_thread(int tid) {
    std::erase_if(attached_, [tid](const AttachedThread& t) { return t.tid == tid; });
    std::erase_if(threads_, [tid](const Thread& t) { return t.tid == tid; });
}

void ProcessTarget::set_stopped(bool stopped) {
    stopped_ = stopped;
    memory_.invalidate();
}

void ProcessTarget::refresh_registers() {
    memory_.invalidate();
    for (auto& attached : attached_) attached.pending_signal = 0;  // live control delivers signals itself
    load_threads();
}

void ProcessTarget::detach() {
    if (auto hook = std::move(before_detach_)) {
        before_detach_ = nullptr;
        hook();
    }
    for (auto& attached : attached_) {
        release_thread(attached);
        attached.traced = false;
        attached.pending_signal = 0;
    }
    stopped_ = false;
    memory_.invalidate();
    attach_registry::retry_lingering();
}

std::string ProcessTarget::local_path(const std::string& recorded_path) const {
    if (recorded_path.empty()) return {};
    // Relative (a script run as `python app.py`): the target's working directory.
    if (recorded_path[0] != '/' && recorded_path[0] != '[') {
        std::string in_cwd = proc::pid_path(pid_, "cwd/") + recorded_path;
        return file_exists(in_cwd) ? in_cwd : std::string();
    }
    bool deleted = ends_with(recorded_path, kDeleted);
    std::string path = without_deleted(recorded_path);
    if (!options_.exe_override.empty() && path == without_deleted(process_.executable)) return options_.exe_override;
    if (!options_.sysroot.empty() && file_exists(options_.sysroot + path)) return options_.sysroot + path;
    if (deleted) {
        // The file is gone from every namespace; the kernel still hands out the mapped inode.
        for (const auto& mapping : mappings_) {
            if (mapping.path != recorded_path) continue;
            std::string mapped = proc::pid_path(pid_, "map_files/") + hex(mapping.start) + "-" + hex(mapping.end);
            if (::access(mapped.c_str(), R_OK) == 0) return mapped;
        }
        if (recorded_path == process_.executable && ::access(proc::pid_path(pid_, "exe").c_str(), R_OK) == 0)
            return proc::pid_path(pid_, "exe");
    }
    // Same file in our mount namespace and the target's: prefer the plain path (nicer to print).
    std::string in_namespace = proc::pid_path(pid_, "root") + path;
    struct stat here, there;
    bool have_here = file_exists(path, &here);
    bool have_there = file_exists(in_namespace, &there);
    if (have_here && have_there && here.st_dev == there.st_dev && here.st_ino == there.st_ino) return path;
    if (have_there) return in_namespace;
    if (have_here && !deleted) return path;
    return {};
}

Expected<std::unique_ptr<Target>> attach_process(int pid, const TargetOptions& options) {
    std::vector<std::string> warnings;
    auto resolved = check_attachable(pid, !options.non_blocking, warnings);
    if (!resolved) return std::unexpected(resolved.error());
    std::vector<AttachedThread> threads;
    if (options.non_blocking) {
        threads = list_threads_running(*resolved);
        if (threads.empty()) return std::unexpected(explain_attach_failure(*resolved, ESRCH));
    } else {
        auto stopped = stop_all_threads(*resolved, warnings);
        if (!stopped) return std::unexpected(stopped.error());
        threads = std::move(*stopped);
    }
    return std::make_unique<ProcessTarget>(*resolved, options, std::move(threads), std::move(warnings));
}

}  // namespace snag
