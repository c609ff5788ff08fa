// core_writer: lays out and writes an x86_64 ELF core (notes first, page-aligned segments after),
// with segment bytes copied straight into the mapped output file so the target stops only for the copy.
#pragma once

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "target/elf_notes.hpp"
#include "target/target.hpp"

namespace snag::dump {

struct CoreThread {
    int tid = 0;
    Registers regs{};
    std::optional<user_fpregs_struct> fpregs{};
    std::string xstate{};  // the XSAVE area as PTRACE_GETREGSET gave it (NT_X86_XSTATE); empty: none
    double user_seconds = 0;
    double system_seconds = 0;
    int signal = 0;
};

struct CoreProcess {
    int pid = 0, ppid = 0, pgrp = 0, sid = 0;
    unsigned uid = 0, gid = 0;
    char state = 'R';
    int nice = 0;
    uint64_t flags = 0;  // the kernel's PF_* bits (/proc/PID/stat field 9)
    std::string fname;   // comm
    std::string psargs;  // arguments joined by spaces (the note keeps the first 80 bytes)
};

// A run of pages to copy from the target; pages of a segment outside every run stay holes (zeros).
struct Run {
    uint64_t addr = 0;
    uint64_t len = 0;
};

struct PlannedSegment {
    uint64_t start = 0;
    uint64_t end = 0;
    uint32_t flags = 0;   // PF_R | PF_W | PF_X
    uint64_t filesz = 0;  // 0: left out (read-only file-backed); readers use the file on disk
    std::vector<Run> runs{};
    uint64_t offset = 0;  // assigned by the layout
};

struct CoreContents {
    CoreProcess process;
    std::vector<CoreThread> threads;  // the first one is the "current" thread for gdb
    std::vector<AuxvEntry> auxv;
    std::vector<elf::FileMapping> files;
    std::vector<PlannedSegment> segments;
    std::string paratext;  // snag's JSON note; empty: none
    std::optional<siginfo_t> siginfo;  // NT_SIGINFO, after the first thread's NT_PRSTATUS; empty: none
};

// The PT_NOTE contents: per thread NT_PRSTATUS (+ NT_FPREGSET, NT_X86_XSTATE), process notes (NT_PRPSINFO,
// NT_SIGINFO, NT_AUXV, NT_FILE) after the first, as the kernel orders them.
std::string build_notes(const CoreContents& contents);

// One copy from the target into the output: returns bytes copied; failures leave zeros.
struct CopyRequest {
    uint64_t addr;
    char* dest;
    uint64_t len;
};
using CopyFn = std::function<uint64_t(const std::vector<CopyRequest>&)>;

// Writes contents to fd: the file is sized (sparse), segment runs copied by copy() into a shared
// mapping of it, then headers and notes written. copy() is the only step that needs the target.
class CoreFileWriter {
public:
    CoreFileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    ~CoreFileWriter();
    CoreFileWriter(const CoreFileWriter&) = delete;
    CoreFileWriter& operator=(const CoreFileWriter&) = delete;

    // Before the stop: lays out a preview (the running process's plan) and pre-faults the file pages
    // its runs will fill, so the copy while stopped takes no page faults. Best effort.
    Expected<void> reserve(CoreContents& preview, size_t notes_size);
    // Assigns offsets, sizes the file and maps it (reusing the reservation when the layout matches).
    Expected<void> prepare(CoreContents& contents, std::string notes);
    // Copies every run; returns bytes copied.
    uint64_t copy_memory(const CoreContents& contents, const CopyFn& copy);
    // Writes the ELF header, program headers and notes, and unmaps.
    Expected<void> finish(const CoreContents& contents);
    uint64_t file_size() const { return size_; }
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

private:
    uint64_t layout(CoreContents& contents, size_t notes_size);
    Expected<void> map(uint64_t size);

    int fd_;
    std::string path_;
    std::string notes_;
    uint64_t notes_offset_ = 0;
    uint64_t size_ = 0;
    char* map_ = nullptr;
};

}  // namespace snag::dump
