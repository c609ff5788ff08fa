// Builds ELF core files by hand for the core reader's tests (independent of snag's own writer).
#pragma once

#include <elf.h>
#include <sys/procfs.h>
#include <csignal>
#include <unistd.h>

#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace snag::test {

// An x86_64-style little-endian ELF64 header whose program headers follow it.
inline Elf64_Ehdr elf64_header(uint16_t type, uint16_t machine, size_t phnum) {
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = static_cast<uint16_t>(phnum);
    return eh;
}

class SyntheticCore {
public:
    struct Load {
        uint64_t vaddr;
        std::string data;  // p_filesz bytes
        uint64_t memsz;
        uint32_t flags;
    };

    void note(const std::string& name, uint32_t type, const std::string& desc) {
        Elf64_Nhdr h{static_cast<uint32_t>(name.size() + 1), static_cast<uint32_t>(desc.size()), type};
        append(notes_, &h, sizeof h);
        notes_ += name;
        notes_.push_back('\0');
        pad(notes_);
        notes_ += desc;
        pad(notes_);
    }

    void thread(int tid, uint64_t rip, uint64_t rsp, int cursig = 0, long utime_us = 0, long stime_us = 0) {
        elf_prstatus st{};
        st.pr_pid = tid;
        st.pr_cursig = static_cast<short>(cursig);
        st.pr_utime = {utime_us / 1000000, utime_us % 1000000};
        st.pr_stime = {stime_us / 1000000, stime_us % 1000000};
        user_regs_struct regs{};
        regs.rip = rip;
        regs.rsp = rsp;
        regs.rbp = rsp + 16;
        std::memcpy(&st.pr_reg, &regs, sizeof regs);
        note("CORE", NT_PRSTATUS, raw(st));
    }

    void process(int pid, int ppid, unsigned uid, const char* fname, const char* args) {
        elf_prpsinfo info{};
        info.pr_pid = pid;
        info.pr_ppid = ppid;
        info.pr_uid = uid;
        // Like the kernel: fixed-size fields, NUL-padded, not NUL-terminated when full.
        std::memcpy(info.pr_fname, fname, std::min(std::strlen(fname), sizeof info.pr_fname));
        std::memcpy(info.pr_psargs, args, std::min(std::strlen(args), sizeof info.pr_psargs));
        note("CORE", NT_PRPSINFO, raw(info));
    }

    void siginfo(int signo, int code, uint64_t addr) {
        siginfo_t info{};
        info.si_signo = signo;
        info.si_code = code;
        std::string desc = raw(info);
        std::memcpy(desc.data() + 16, &addr, 8);  // si_addr
        note("CORE", NT_SIGINFO, desc);
    }

    void auxv(const std::vector<std::pair<uint64_t, uint64_t>>& entries) {
        std::string desc;
        for (auto [k, v] : entries) {
            append(desc, &k, 8);
            append(desc, &v, 8);
        }
        uint64_t zero = 0;
        append(desc, &zero, 8);
        append(desc, &zero, 8);
        note("CORE", NT_AUXV, desc);
    }

    struct File {
        uint64_t start, end, page_offset;
        std::string path;
    };
    void files(const std::vector<File>& files) {
        std::string desc;
        uint64_t count = files.size(), page = 4096;
        append(desc, &count, 8);
        append(desc, &page, 8);
        for (const auto& f : files) {
            append(desc, &f.start, 8);
            append(desc, &f.end, 8);
            append(desc, &f.page_offset, 8);
        }
        for (const auto& f : files) {
            desc += f.path;
            desc.push_back('\0');
        }
        note("CORE", NT_FILE, desc);
    }

    void load(uint64_t vaddr, std::string data, uint64_t memsz, uint32_t flags = PF_R | PF_W) {
        loads_.push_back({vaddr, std::move(data), memsz, flags});
    }

    std::string bytes() const {
        size_t phnum = 1 + loads_.size();
        uint64_t notes_at = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
        uint64_t data_at = (notes_at + notes_.size() + 4095) & ~uint64_t{4095};
        Elf64_Ehdr eh = elf64_header(ET_CORE, machine, phnum);
        std::string out;
        append(out, &eh, sizeof eh);
        Elf64_Phdr note{};
        note.p_type = PT_NOTE;
        note.p_offset = notes_at;
        note.p_filesz = notes_.size();
        note.p_align = 4;
        append(out, &note, sizeof note);
        uint64_t at = data_at;
        for (const auto& l : loads_) {
            Elf64_Phdr ph{};
            ph.p_type = PT_LOAD;
            ph.p_flags = l.flags;
            ph.p_offset = at;
            ph.p_vaddr = l.vaddr;
            ph.p_filesz = l.data.size();
            ph.p_memsz = l.memsz;
            ph.p_align = 4096;
            append(out, &ph, sizeof ph);
            at = (at + l.data.size() + 4095) & ~uint64_t{4095};
        }
        out += notes_;
        for (const auto& l : loads_) {
            out.resize((out.size() + 4095) & ~size_t{4095}, '\0');
            out += l.data;
        }
        return out;
    }

    uint16_t machine = EM_X86_64;

private:
    template <class T>
    static std::string raw(const T& value) {
        return std::string(reinterpret_cast<const char*>(&value), sizeof value);
    }
    static void append(std::string& s, const void* p, size_t n) { s.append(static_cast<const char*>(p), n); }
    static void pad(std::string& s) { s.resize((s.size() + 3) & ~size_t{3}, '\0'); }

    std::string notes_;
    std::vector<Load> loads_;
};

// A scratch directory removed at the end of the test.
class TempDir {
public:
    TempDir() {
        char name[] = "/tmp/snag-test-XXXXXX";
        path_ = ::mkdtemp(name);
    }
    ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
    std::string file(const std::string& name, const std::string& content) const {
        std::string p = path_ + "/" + name;
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace snag::test
