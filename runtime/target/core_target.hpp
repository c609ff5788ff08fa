// The Target over an ELF core: threads and process facts from notes, memory from PT_LOAD segments
// and, for what the core left out, from the mapped files on disk.
#pragma once

#include <signal.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "target/core_mmap.hpp"
#include "target/elf_notes.hpp"
#include "target/process_status.hpp"
#include "target/target.hpp"

namespace snag {

struct CoreSegment {
    uint64_t vaddr = 0;
    uint64_t memsz = 0;
    uint64_t offset = 0;   // of the segment's bytes in the core file
    uint64_t filesz = 0;
    uint64_t present = 0;  // bytes of filesz the (possibly truncated) file really holds
    uint32_t flags = 0;    // PF_R | PF_W | PF_X
};

class CoreTarget final : public Target {
public:
    CoreTarget(std::string path, FileMap core, TargetOptions options)
        : path_(std::move(path)), core_(std::move(core)), options_(std::move(options)) {}

    TargetKind kind() const override { return TargetKind::Core; }
    const ProcessInfo& process() const override { return process_; }
    const std::vector<Thread>& threads() const override { return threads_; }
    const std::vector<Mapping>& mappings() const override { return mappings_; }
    const std::vector<AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<SignalInfo> signal() const override { return signal_; }
    size_t read(uint64_t addr, void* out, size_t len) override;
    std::string local_path(const std::string& recorded_path) const override;
    const std::vector<std::string>& warnings() const override { return warnings_; }
    std::optional<std::string> paratext() const override { return paratext_; }
    int signal_sender_uid() const { return signal_sender_uid_; }  // -1 unless a process sent the signal
    const std::optional<siginfo_t>& siginfo() const { return siginfo_; }    // NT_SIGINFO as recorded
    const std::optional<ProcessStatus>& psinfo() const { return psinfo_; }  // NT_PRPSINFO
    int files_missing_or_different() const override { return files_astray_; }

    // Only the bytes the core holds: no zero fill, no files on disk (build-ids recorded at dump time).
    size_t read_recorded(uint64_t addr, void* out, size_t len) const;
    const std::vector<elf::FileMapping>& file_mappings() const { return files_; }
    const std::string& path() const { return path_; }

private:
    friend class CoreLoader;

    const CoreSegment* segment_at(uint64_t addr) const;
    const elf::FileMapping* file_at(uint64_t addr) const;
    size_t read_from_file(const elf::FileMapping& file, uint64_t addr, void* out, size_t len);
    const FileMap* open_mapped_file(const std::string& recorded_path);

    std::string path_;
    FileMap core_;
    TargetOptions options_;
    ProcessInfo process_;
    std::vector<Thread> threads_;
    std::vector<Mapping> mappings_;
    std::vector<AuxvEntry> auxv_;
    std::optional<SignalInfo> signal_;
    int signal_sender_uid_ = -1;
    std::optional<siginfo_t> siginfo_;
    std::optional<ProcessStatus> psinfo_;
    std::optional<std::string> paratext_;
    std::vector<std::string> warnings_;
    int files_astray_ = 0;  // mapped files not found here, or found with another build-id
    std::vector<CoreSegment> segments_;   // sorted by vaddr
    std::vector<elf::FileMapping> files_; // NT_FILE, sorted by start
    std::string exe_recorded_;            // NT_FILE path of the main executable
    std::map<std::string, std::optional<FileMap>> file_cache_;  // recorded path → mapped local file
};

// Builds a CoreTarget from a mapped core; path names the file in every error.
Expected<std::unique_ptr<Target>> load_core(const std::string& path, FileMap core, const TargetOptions& options,
                                            std::vector<std::string> warnings);

}  // namespace snag
