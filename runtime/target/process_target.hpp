// process_target: the Target of a live process, stopped with ptrace (or read running with --no-stop).
#pragma once

#include <signal.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "target/process_attach.hpp"
#include "target/process_memory.hpp"
#include "target/target.hpp"

namespace snag {

class ProcessTarget final : public Target {
public:
    ProcessTarget(int pid, const TargetOptions& options, std::vector<AttachedThread> threads,
                  std::vector<std::string> warnings);
    ~ProcessTarget() override;

    TargetKind kind() const override { return TargetKind::Process; }
    const ProcessInfo& process() const override { return process_; }
    const std::vector<Thread>& threads() const override { return threads_; }
    const std::vector<Mapping>& mappings() const override { return mappings_; }
    const std::vector<AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<SignalInfo> signal() const override { return signal_; }
    size_t read(uint64_t addr, void* out, size_t len) override;
    std::string local_path(const std::string& recorded_path) const override;
    const std::vector<std::string>& warnings() const override { return warnings_; }
    int signal_sender_uid() const { return signal_sender_uid_; }  // -1 unless a process sent the signal
    const std::optional<siginfo_t>& siginfo() const { return siginfo_; }  // PTRACE_GETSIGINFO of the signal
    void detach() override;

    // For execution control (runtime/control): which threads are traced, and keeping the view
    // honest after the process ran.
    int pid() const { return pid_; }
    bool stopped() const { return stopped_; }
    bool non_blocking() const { return options_.non_blocking; }
    const std::vector<AttachedThread>& attached_threads() const { return attached_; }
    // Writes memory (through /proc/PID/mem, so code pages too); returns bytes written.
    size_t write(uint64_t addr, const void* data, size_t len);
    // Forget cached memory and re-read mappings, thread states and registers (after the process ran
    // and was stopped again by the caller).
    void refresh();
    void invalidate_memory_cache() { memory_.invalidate(); }
    const ProcessMemory::Stats& memory_stats() const { return memory_.stats(); }

    // Live control (runtime/control) runs the process itself: threads born (PTRACE_EVENT_CLONE) or
    // gone while it ran, whether it is stopped now, and a cheap refresh after each stop.
    void adopt_thread(int tid);
    void forget_thread(int tid);
    void set_stopped(bool stopped);
    void refresh_registers();  // memory cache and registers only (no /proc re-reads)
    // Runs once at the start of detach(): live control removes its breakpoints and lets go first.
    void set_before_detach(std::function<void()> hook) { before_detach_ = std::move(hook); }

private:
    void load_process_info();
    void load_threads();
    void load_mappings_and_auxv();

    int pid_;
    TargetOptions options_;
    std::vector<AttachedThread> attached_;
    std::vector<std::string> warnings_;
    ProcessInfo process_;
    std::vector<Thread> threads_;
    std::vector<Mapping> mappings_;
    std::vector<AuxvEntry> auxv_;
    std::optional<SignalInfo> signal_;
    int signal_sender_uid_ = -1;
    std::optional<siginfo_t> siginfo_;
    mutable ProcessMemory memory_;
    bool stopped_;
    std::function<void()> before_detach_;
};

}  // namespace snag
