// Target: one interface over a live process and an ELF core, so every layer above is written once.
#pragma once

#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace snag {

enum class TargetKind { Process, Core };

// x86_64 general-purpose registers in the kernel's user_regs_struct order (NT_PRSTATUS, GETREGSET).
using Registers = user_regs_struct;

// SSE/AVX state of a thread from its XSAVE area (NT_X86_XSTATE, PTRACE_GETREGSET) or, without
// one, its FXSAVE area (NT_FPREGSET): ymm[i]'s low 16 bytes are xmm i.
struct VectorRegisters {
    uint8_t ymm[16][32] = {};
    uint32_t mxcsr = 0;
    bool avx = false;  // the upper halves are known (the area has AVX enabled in XCR0)
};

struct Thread {
    int tid = 0;
    std::string name;         // comm, empty when unknown
    char state = '?';         // R S D T t Z X, '?' when unknown (most cores)
    bool has_cpu_times = false;
    double user_seconds = 0;  // CPU consumed in user mode
    double system_seconds = 0;
    int pending_signal = 0;   // core: pr_cursig of this thread
    bool has_registers = false;
    Registers regs{};
    std::optional<VectorRegisters> vector;  // when the core or the kernel gave the FP/SSE state
    int namespace_tid = 0;    // its id inside the process's own PID namespace, when that differs
};

struct Mapping {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t file_offset = 0;  // bytes
    std::string perms;         // "r-xp" style; cores derive it from PT_LOAD flags
    std::string path;          // empty for anonymous mappings; may be "[stack]" etc. live
};

struct AuxvEntry {
    uint64_t type = 0;
    uint64_t value = 0;
};

// The fatal signal recorded in a core (NT_SIGINFO), or the last stop signal live.
struct SignalInfo {
    int signo = 0;
    int code = 0;
    int error = 0;
    uint64_t fault_address = 0;
    int sender_pid = 0;
};

struct ProcessInfo {
    int pid = 0;
    int ppid = 0;
    int uid = 0;
    std::string name;        // comm / pr_fname
    std::string cmdline;     // arguments joined with spaces
    std::string executable;  // path of the main executable when known
    int namespace_pid = 0;   // its pid inside its own PID namespace when that is not ours (a container)
};

// Per-target options shared by every implementation.
struct TargetOptions {
    std::string exe_override;  // --exe PATH
    std::string sysroot;       // --sysroot DIR, prefixed to every file path recorded in a core
    bool non_blocking = false; // live: read without stopping the process
    bool allow_truncated = false; // core: open a cut core, its missing bytes unreadable, with a warning
};

class Target {
public:
    virtual ~Target() = default;

    virtual TargetKind kind() const = 0;
    virtual const ProcessInfo& process() const = 0;
    virtual const std::vector<Thread>& threads() const = 0;
    virtual const std::vector<Mapping>& mappings() const = 0;
    virtual const std::vector<AuxvEntry>& auxv() const = 0;
    virtual std::optional<SignalInfo> signal() const = 0;

    // Copies up to len bytes at addr; returns how many were readable from the start (0 = none).
    virtual size_t read(uint64_t addr, void* out, size_t len) = 0;

    // Opens a file the target mapped, honouring --sysroot/--exe; empty when it cannot be found.
    virtual std::string local_path(const std::string& recorded_path) const = 0;

    // Non-fatal problems found while opening (build-id mismatches, missing files).
    virtual const std::vector<std::string>& warnings() const = 0;

    // Core: how many mapped files were not found here or have another build-id (see warnings).
    virtual int files_missing_or_different() const { return 0; }

    // snag's own paratext note (JSON text) when the core was written by `snag dump`; live: none.
    virtual std::optional<std::string> paratext() const { return std::nullopt; }

    // Live only: resume all threads and let go of the process. Idempotent; no-op on cores.
    virtual void detach() {}

    bool read_exact(uint64_t addr, void* out, size_t len) { return read(addr, out, len) == len; }
    template <class T>
    std::optional<T> read_value(uint64_t addr) {
        T value;
        if (!read_exact(addr, &value, sizeof value)) return std::nullopt;
        return value;
    }
    std::optional<uint64_t> read_u64(uint64_t addr) { return read_value<uint64_t>(addr); }
    // NUL-terminated string, at most max bytes; nullopt when the first byte is unreadable.
    std::optional<std::string> read_cstring(uint64_t addr, size_t max = 4096);
    const Thread* thread(int tid) const;
    // The thread a TID seen from inside the target's PID namespace names (CPython's
    // native_thread_id, glibc's tid); the TID itself when the target shares our namespace.
    const Thread* thread_seen_inside(int tid) const;
};

// Opens a core file (plain, .zst or .gz); errors name the file and what is wrong with it.
Expected<std::unique_ptr<Target>> open_core(const std::string& path, const TargetOptions& options);

// Attaches to every thread of pid (PTRACE_SEIZE + PTRACE_INTERRUPT) unless options.non_blocking.
Expected<std::unique_ptr<Target>> attach_process(int pid, const TargetOptions& options);

// "1234" → process, anything else → core file.
Expected<std::unique_ptr<Target>> open_target(const std::string& spec, const TargetOptions& options);

}  // namespace snag
