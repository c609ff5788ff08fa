// Snapshot targets: keep a live process stopped only while the pages a reader needs are copied.
//
// A reader (the asyncio task walk) first runs against the running process through a
// RecordingTarget, which notes every page it touches. The process is then stopped, exactly
// those pages are copied in a few batched process_vm_readv calls into a SnapshotTarget, and the
// process is resumed; the reader runs again on the snapshot. Pages it needs that the copy lacks
// (the process changed between the two runs) are its misses: the caller takes a new snapshot
// with them added, so every result comes from memory copied during one stop. Pages of files
// mapped read-only (code, which unwinders read) cannot change and are read when asked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "target/target.hpp"

namespace snag {

constexpr uint64_t kSnapshotPage = 4096;

// Forwards to a target and records the pages read through it.
class RecordingTarget : public Target {
public:
    explicit RecordingTarget(Target& inner) : inner_(inner) {}

    TargetKind kind() const override { return inner_.kind(); }
    const ProcessInfo& process() const override { return inner_.process(); }
    const std::vector<Thread>& threads() const override { return inner_.threads(); }
    const std::vector<Mapping>& mappings() const override { return inner_.mappings(); }
    const std::vector<AuxvEntry>& auxv() const override { return inner_.auxv(); }
    std::optional<SignalInfo> signal() const override { return inner_.signal(); }
    size_t read(uint64_t addr, void* out, size_t len) override;
    std::string local_path(const std::string& recorded_path) const override { return inner_.local_path(recorded_path); }
    const std::vector<std::string>& warnings() const override { return inner_.warnings(); }
    int files_missing_or_different() const override { return inner_.files_missing_or_different(); }

    const std::set<uint64_t>& pages() const { return pages_; }

private:
    Target& inner_;
    std::set<uint64_t> pages_;
};

// The threads, mappings and the given pages of a stopped process, readable after it resumes.
// It owns the stopped target (for file lookups); detach() resumes the process.
class SnapshotTarget : public Target {
public:
    // Copies now: call while `stopped` is stopped: the pages, and 64 KiB of each thread's stack
    // from its stack pointer. Pages that cannot be read are remembered as holes (reads there
    // fail, as they would live), not as misses.
    SnapshotTarget(std::unique_ptr<Target> stopped, int pid, const std::set<uint64_t>& pages);

    TargetKind kind() const override { return TargetKind::Process; }
    const ProcessInfo& process() const override { return process_; }
    const std::vector<Thread>& threads() const override { return threads_; }
    const std::vector<Mapping>& mappings() const override { return mappings_; }
    const std::vector<AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<SignalInfo> signal() const override { return signal_; }
    size_t read(uint64_t addr, void* out, size_t len) override;
    std::string local_path(const std::string& recorded_path) const override { return stopped_->local_path(recorded_path); }
    const std::vector<std::string>& warnings() const override { return warnings_; }
    int files_missing_or_different() const override { return stopped_->files_missing_or_different(); }
    void detach() override { stopped_->detach(); }

    // Pages a read wanted that the snapshot did not copy.
    const std::set<uint64_t>& misses() const { return misses_; }
    size_t pages_copied() const { return data_.size(); }
    size_t copy_syscalls() const { return syscalls_; }

private:
    void copy(int pid, const std::vector<uint64_t>& pages);
    // A page of a file mapped without write permission: read from the process when asked.
    bool read_only(uint64_t page) const;

    std::unique_ptr<Target> stopped_;
    ProcessInfo process_;
    std::vector<Thread> threads_;
    std::vector<Mapping> mappings_;
    std::vector<AuxvEntry> auxv_;
    std::optional<SignalInfo> signal_;
    std::vector<std::string> warnings_;
    std::map<uint64_t, std::unique_ptr<uint8_t[]>> data_;  // page address -> 4 KiB; null: a hole
    std::set<uint64_t> misses_;
    size_t syscalls_ = 0;
};

}  // namespace snag
