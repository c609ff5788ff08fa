// write_core: sample, stop, copy, resume, then finish the file — the target is stopped only to copy.
#include "dump/dump.hpp"

#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "dump/core_writer.hpp"
#include "dump/dump_plan.hpp"
#include "dump/memory_copy.hpp"
#include "dump/paratext.hpp"
#include "target/proc_fs.hpp"
#include "target/process_status.hpp"
#include "target/signal_names.hpp"
#include "target/process_attach.hpp"
#include "target/vector_registers.hpp"

namespace snag {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

void read_process_ids(int pid, const Target& target, dump::CoreProcess& process) {
    process.pid = pid;
    process.ppid = target.process().ppid;
    process.uid = static_cast<unsigned>(target.process().uid);
    process.fname = target.process().name;
    process.psargs = target.process().cmdline;
    if (auto status = read_process_status(pid)) {
        if (status->gid >= 0) process.gid = static_cast<unsigned>(status->gid);
        process.state = status->state;
        process.pgrp = status->pgrp;
        process.sid = status->sid;
        process.nice = status->nice;
        process.flags = status->flags;
    }
}

// Registers from the Target; FP/SSE state with PTRACE_GETFPREGS (we are the tracer). The
// thread with the signal (else the main thread) comes first: gdb's current thread.
std::vector<dump::CoreThread> stopped_threads(int pid, const Target& target,
                                              const std::vector<dump::ThreadSample>& samples,
                                              int signal_tid, int signo) {
    std::vector<dump::CoreThread> threads;
    for (const auto& t : target.threads()) {
        if (!t.has_registers) continue;
        dump::CoreThread ct{.tid = t.tid, .regs = t.regs};
        user_fpregs_struct fp;
        if (::ptrace(PTRACE_GETFPREGS, t.tid, nullptr, &fp) == 0) ct.fpregs = fp;
        if (auto area = read_xstate_area(t.tid)) ct.xstate = std::move(*area);
        ct.user_seconds = t.user_seconds;
        ct.system_seconds = t.system_seconds;
        for (const auto& s : samples)
            if (s.tid == t.tid && !t.has_cpu_times) {
                ct.user_seconds = s.user_seconds;
                ct.system_seconds = s.system_seconds;
            }
        ct.signal = signo;  // every thread, as the kernel writes it (gdb reads the last one)
        bool first = signal_tid ? t.tid == signal_tid : t.tid == pid;
        if (first) threads.insert(threads.begin(), ct);
        else threads.push_back(ct);
    }
    return threads;
}

// A signal pending when snag attached (caught on its way to the process), as the kernel's siginfo.
std::optional<siginfo_t> pending_siginfo(const Target& target, int& tid) {
    auto signal = target.signal();
    if (!signal || !signal->signo) return std::nullopt;
    for (const auto& t : target.threads())
        if (t.pending_signal == signal->signo) {
            tid = t.tid;
            break;
        }
    if (auto raw = raw_siginfo(target); raw && raw->si_signo == signal->signo) return raw;  // every field
    siginfo_t info{};
    info.si_signo = signal->signo;
    info.si_code = signal->code;
    info.si_errno = signal->error;
    if (signal_is_fault(signal->signo, signal->code)) {
        info.si_addr = reinterpret_cast<void*>(signal->fault_address);
    } else if (signal_has_sender(signal->code)) {
        info.si_pid = signal->sender_pid;
        info.si_uid = static_cast<uid_t>(std::max(signal_sender_uid(target), 0));
    }
    return info;
}

uint64_t bytes_to_copy(const dump::CoreContents& contents) {
    uint64_t total = 0;
    for (const auto& seg : contents.segments)
        for (const auto& run : seg.runs) total += run.len;
    return total;
}

// A full disk shows up as SIGBUS when writing through a mapping: refuse before copying instead.
Expected<void> check_free_space(int fd, uint64_t needed, const std::string& path) {
    struct statvfs fs;
    if (::fstatvfs(fd, &fs) != 0) return {};
    uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (needed + (1 << 20) > free_bytes)
        return fail("not enough space for " + path + ": it needs " + std::to_string(needed >> 20) + " MiB, " +
                    std::to_string(free_bytes >> 20) + " MiB free");
    return {};
}

// The plan of the running process, laid out and pre-faulted so the stopped copy runs at memcpy speed.
Expected<void> reserve_running(int pid, const std::vector<dump::ThreadSample>& samples, const std::string& paratext,
                               const std::optional<siginfo_t>& siginfo, dump::DumpPlanner& planner,
                               dump::CoreFileWriter& writer) {
    dump::CoreContents preview;
    auto maps = proc::read_file(proc::pid_path(pid, "maps"));
    if (!maps) return fail("no such process: " + std::to_string(pid));
    for (const auto& s : samples) {
        dump::CoreThread thread;
        thread.tid = s.tid;
        thread.fpregs = user_fpregs_struct{};
        thread.xstate.assign(xstate_area_size(), '\0');
        preview.threads.push_back(thread);
    }
    if (auto auxv = proc::read_file(proc::pid_path(pid, "auxv"))) preview.auxv = proc::parse_auxv(*auxv);
    preview.paratext = paratext;
    preview.siginfo = siginfo;
    planner.plan(proc::parse_maps(*maps), preview);
    if (auto space = check_free_space(writer.fd(), bytes_to_copy(preview), writer.path()); !space)
        return space;
    return writer.reserve(preview, dump::build_notes(preview).size());
}

}  // namespace

static Expected<DumpReport> write_core_into(int pid, int fd, const DumpOptions& options);

Expected<DumpReport> write_core(int pid, const DumpOptions& options) {
    if (options.output.empty()) return fail("missing output file (-o FILE)");
    std::vector<std::string> notes;  // only errors matter here: the permission message bt gives
    if (auto attachable = check_attachable(pid, true, notes); !attachable) return std::unexpected(attachable.error());
    int fd = ::open(options.output.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot create " + options.output + ": " + std::strerror(errno));
    auto report = write_core_into(pid, fd, options);
    ::close(fd);
    // A half-written core would only mislead later readers.
    if (!report) ::unlink(options.output.c_str());
    return report;
}

// Everything after the output file exists; on error the caller removes it.
static Expected<DumpReport> write_core_into(int pid, int fd, const DumpOptions& options) {
    // Everything that does not need the process stopped happens first, while it runs.
    auto samples = dump::sample_threads(pid, options.cpu_sample_seconds);
    dump::CoreContents contents;
    contents.paratext = dump::build_paratext(pid, samples, options.cpu_sample_seconds);
    dump::DumpPlanner planner(pid, {.holes_for_untouched_pages = options.holes});
    dump::CoreFileWriter writer(fd, options.output);
    if (auto reserved = reserve_running(pid, samples, contents.paratext, options.siginfo, planner, writer); !reserved)
        return std::unexpected(reserved.error());

    auto stop_start = Clock::now();
    auto target = attach_process(pid, TargetOptions{});
    if (!target) return std::unexpected(target.error());
    auto attached = Clock::now();
    int signal_tid = options.signal_tid;
    contents.siginfo = options.siginfo;
    if (!contents.siginfo) contents.siginfo = pending_siginfo(**target, signal_tid);
    contents.threads = stopped_threads(pid, **target, samples, signal_tid,
                                       contents.siginfo ? contents.siginfo->si_signo : 0);
    contents.auxv = (*target)->auxv();
    read_process_ids(pid, **target, contents.process);
    planner.plan((*target)->mappings(), contents);
    if (auto ready = writer.prepare(contents, dump::build_notes(contents)); !ready)
        return std::unexpected(ready.error());
    auto copy_start = Clock::now();
    uint64_t copied = writer.copy_memory(contents, [pid](const std::vector<dump::CopyRequest>& requests) {
        return dump::copy_process_memory(pid, requests);
    });
    auto copy_end = Clock::now();
    (*target)->detach();
    auto stop_end = Clock::now();

    if (auto done = writer.finish(contents); !done) return std::unexpected(done.error());
    DumpReport report;
    report.threads = contents.threads.size();
    report.segments = contents.segments.size();
    report.bytes_written = copied;
    report.file_size = writer.file_size();
    report.stopped_seconds = seconds(stop_start, stop_end);
    report.attach_seconds = seconds(stop_start, attached);
    report.copy_seconds = seconds(copy_start, copy_end);
    report.write_seconds = seconds(stop_end, Clock::now());
    return report;
}

}  // namespace snag
