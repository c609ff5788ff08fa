// Test double: a Target over the current process (memory via process_vm_readv, mappings from
// /proc/self/maps), with threads the test supplies (e.g. registers captured by getcontext).
#pragma once

#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "target/target.hpp"

namespace snag::test {

// Registers of a context saved by getcontext(), in the kernel's user_regs_struct layout.
inline Registers registers_from(const ucontext_t& uc) {
    const greg_t* g = uc.uc_mcontext.gregs;
    Registers r{};
    r.r15 = g[REG_R15]; r.r14 = g[REG_R14]; r.r13 = g[REG_R13]; r.r12 = g[REG_R12];
    r.rbp = g[REG_RBP]; r.rbx = g[REG_RBX]; r.r11 = g[REG_R11]; r.r10 = g[REG_R10];
    r.r9 = g[REG_R9];   r.r8 = g[REG_R8];   r.rax = g[REG_RAX]; r.rcx = g[REG_RCX];
    r.rdx = g[REG_RDX]; r.rsi = g[REG_RSI]; r.rdi = g[REG_RDI]; r.rip = g[REG_RIP];
    r.rsp = g[REG_RSP];
    return r;
}

class SelfTarget : public Target {
public:
    SelfTarget() {
        process_.pid = getpid();
        process_.name = "snag_unit";
        std::ifstream maps("/proc/self/maps");
        std::string line;
        while (std::getline(maps, line)) {
            std::istringstream in(line);
            Mapping m;
            std::string range, dev, inode;
            in >> range >> m.perms >> std::hex >> m.file_offset >> dev >> inode;
            std::getline(in >> std::ws, m.path);
            auto dash = range.find('-');
            m.start = std::stoull(range.substr(0, dash), nullptr, 16);
            m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
            mappings_.push_back(m);
        }
    }

    void add_thread(int tid, const Registers& regs, std::string name = "worker") {
        Thread t;
        t.tid = tid;
        t.name = std::move(name);
        t.state = 'S';
        t.has_registers = true;
        t.regs = regs;
        threads_.push_back(t);
    }

    TargetKind kind() const override { return TargetKind::Process; }
    const ProcessInfo& process() const override { return process_; }
    const std::vector<Thread>& threads() const override { return threads_; }
    const std::vector<Mapping>& mappings() const override { return mappings_; }
    const std::vector<AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<SignalInfo> signal() const override { return std::nullopt; }
    size_t read(uint64_t addr, void* out, size_t len) override {
        iovec local{out, len}, remote{reinterpret_cast<void*>(addr), len};
        ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        return got < 0 ? 0 : size_t(got);
    }
    std::string local_path(const std::string& recorded_path) const override { return recorded_path; }
    const std::vector<std::string>& warnings() const override { return warnings_; }

private:
    ProcessInfo process_;
    std::vector<Thread> threads_;
    std::vector<Mapping> mappings_;
    std::vector<AuxvEntry> auxv_;
    std::vector<std::string> warnings_;
};

}  // namespace snag::test
