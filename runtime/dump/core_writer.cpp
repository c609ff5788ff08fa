#include "dump/core_writer.hpp"

#include <elf.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "target/core_notes.hpp"

namespace snag::dump {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14); older kernels say EINVAL

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

void add_note(std::string& out, const char* name, uint32_t type, std::string_view desc) {
    Elf64_Nhdr header{static_cast<uint32_t>(std::strlen(name) + 1), static_cast<uint32_t>(desc.size()), type};
    out.append(reinterpret_cast<const char*>(&header), sizeof header);
    out.append(name, header.n_namesz);
    out.resize((out.size() + 3) & ~size_t{3}, '\0');
    out.append(desc);
    out.resize((out.size() + 3) & ~size_t{3}, '\0');
}

template <class T>
std::string_view bytes_of(const T& value) {
    return {reinterpret_cast<const char*>(&value), sizeof value};
}

struct timeval to_timeval(double seconds) {
    double whole = std::floor(seconds);
    return {static_cast<time_t>(whole), static_cast<suseconds_t>((seconds - whole) * 1e6)};
}

std::string prstatus(const CoreThread& thread, const CoreProcess& process, const siginfo_t* siginfo) {
    elf_prstatus status{};
    status.pr_info.si_signo = thread.signal;
    if (siginfo && siginfo->si_signo == thread.signal) {
        status.pr_info.si_code = siginfo->si_code;
        status.pr_info.si_errno = siginfo->si_errno;
    }
    status.pr_cursig = static_cast<short>(thread.signal);
    status.pr_pid = thread.tid;
    status.pr_ppid = process.ppid;
    status.pr_pgrp = process.pgrp;
    status.pr_sid = process.sid;
    status.pr_utime = to_timeval(thread.user_seconds);
    status.pr_stime = to_timeval(thread.system_seconds);
    std::memcpy(&status.pr_reg, &thread.regs, sizeof status.pr_reg);
    status.pr_fpvalid = thread.fpregs ? 1 : 0;
    return std::string(bytes_of(status));
}

std::string prpsinfo(const CoreProcess& process) {
    elf_prpsinfo info{};
    info.pr_state = 0;
    info.pr_sname = process.state;
    info.pr_zomb = process.state == 'Z';
    info.pr_nice = static_cast<char>(process.nice);
    info.pr_flag = process.flags;
    info.pr_uid = process.uid;
    info.pr_gid = process.gid;
    info.pr_pid = process.pid;
    info.pr_ppid = process.ppid;
    info.pr_pgrp = process.pgrp;
    info.pr_sid = process.sid;
    std::strncpy(info.pr_fname, process.fname.c_str(), sizeof info.pr_fname - 1);
    std::strncpy(info.pr_psargs, process.psargs.c_str(), sizeof info.pr_psargs - 1);
    return std::string(bytes_of(info));
}

std::string auxv_desc(const std::vector<AuxvEntry>& auxv) {
    std::string out;
    for (const auto& e : auxv) {
        out.append(bytes_of(e.type));
        out.append(bytes_of(e.value));
    }
    uint64_t null_entry[2] = {0, 0};
    out.append(reinterpret_cast<const char*>(null_entry), sizeof null_entry);
    return out;
}

}  // namespace

std::string build_notes(const CoreContents& contents) {
    std::string out;
    for (size_t i = 0; i < contents.threads.size(); ++i) {
        const auto& thread = contents.threads[i];
        const siginfo_t* siginfo = contents.siginfo ? &*contents.siginfo : nullptr;
        add_note(out, "CORE", NT_PRSTATUS, prstatus(thread, contents.process, siginfo));
        if (i == 0) {
            add_note(out, "CORE", NT_PRPSINFO, prpsinfo(contents.process));
            if (siginfo) add_note(out, "CORE", NT_SIGINFO, bytes_of(*siginfo));
            add_note(out, "CORE", NT_AUXV, auxv_desc(contents.auxv));
            add_note(out, "CORE", NT_FILE, elf::build_nt_file(contents.files, kPage));
        }
        if (thread.fpregs) add_note(out, "CORE", NT_FPREGSET, bytes_of(*thread.fpregs));
        // The kernel's name and order for the AVX state: gdb and snag read ymm registers from it.
        if (!thread.xstate.empty()) add_note(out, "LINUX", NT_X86_XSTATE, thread.xstate);
    }
    if (!contents.paratext.empty()) add_note(out, kSnagNoteName, kSnagParatextType, contents.paratext);
    return out;
}

CoreFileWriter::~CoreFileWriter() {
    if (map_) ::munmap(map_, size_);
}

uint64_t CoreFileWriter::layout(CoreContents& contents, size_t notes_size) {
    uint64_t phnum = 1 + contents.segments.size();
    notes_offset_ = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    // More than 65534 segments: e_phnum = PN_XNUM and the count goes into section header 0.
    if (phnum >= PN_XNUM) notes_offset_ += sizeof(Elf64_Shdr);
    uint64_t at = page_up(notes_offset_ + notes_size);
    for (auto& seg : contents.segments) {
        seg.offset = seg.filesz ? at : 0;
        at = page_up(at + seg.filesz);
    }
    return at;
}

Expected<void> CoreFileWriter::map(uint64_t size) {
    if (map_ && size == size_) return {};
    if (map_) ::munmap(map_, size_);
    map_ = nullptr;
    size_ = size;
    // The file was created empty, so growing it leaves holes and shrinking drops only zeros.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
        return fail("cannot size " + path_ + ": " + std::strerror(errno));
    void* map = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) return fail("cannot map " + path_ + " for writing: " + std::strerror(errno));
    map_ = static_cast<char*>(map);
    return {};
}

Expected<void> CoreFileWriter::reserve(CoreContents& preview, size_t notes_size) {
    if (auto mapped = map(layout(preview, notes_size)); !mapped) return mapped;
    for (const auto& seg : preview.segments)
        for (const auto& run : seg.runs)
            ::madvise(map_ + seg.offset + (run.addr - seg.start), run.len, kPopulateWrite);
    return {};
}

Expected<void> CoreFileWriter::prepare(CoreContents& contents, std::string notes) {
    notes_ = std::move(notes);
    return map(layout(contents, notes_.size()));
}

uint64_t CoreFileWriter::copy_memory(const CoreContents& contents, const CopyFn& copy) {
    std::vector<CopyRequest> requests;
    for (const auto& seg : contents.segments)
        for (const auto& run : seg.runs)
            requests.push_back({run.addr, map_ + seg.offset + (run.addr - seg.start), run.len});
    return copy(requests);
}

Expected<void> CoreFileWriter::finish(const CoreContents& contents) {
    uint64_t phnum = 1 + contents.segments.size();
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = phnum >= PN_XNUM ? PN_XNUM : static_cast<uint16_t>(phnum);
    std::string head(reinterpret_cast<const char*>(&eh), sizeof eh);
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_offset = notes_offset_;
    note.p_filesz = notes_.size();
    note.p_align = 4;
    head.append(bytes_of(note));
    for (const auto& seg : contents.segments) {
        Elf64_Phdr ph{};
        ph.p_type = PT_LOAD;
        ph.p_flags = seg.flags;
        ph.p_offset = seg.offset;
        ph.p_vaddr = seg.start;
        ph.p_filesz = seg.filesz;
        ph.p_memsz = seg.end - seg.start;
        ph.p_align = kPage;
        head.append(bytes_of(ph));
    }
    if (phnum >= PN_XNUM) {
        Elf64_Shdr sh{};
        sh.sh_info = static_cast<uint32_t>(phnum);
        auto* header = reinterpret_cast<Elf64_Ehdr*>(head.data());
        header->e_shoff = head.size();
        header->e_shentsize = sizeof sh;
        header->e_shnum = 1;
        head.append(bytes_of(sh));
    }
    head += notes_;
    // The headers are small: write them through the mapping, then let the kernel flush it all.
    if (head.size() > size_) return fail("internal error: headers larger than " + path_);
    std::memcpy(map_, head.data(), head.size());
    if (::munmap(map_, size_) != 0) return fail("cannot write " + path_ + ": " + std::strerror(errno));
    map_ = nullptr;
    return {};
}

}  // namespace snag::dump
