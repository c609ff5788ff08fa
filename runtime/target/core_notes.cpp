#include "target/core_notes.hpp"
#include "target/signal_names.hpp"

#include <sys/procfs.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace snag {
namespace {

std::string bounded_string(const char* chars, size_t max) {
    return std::string(chars, strnlen(chars, max));
}

double seconds(const struct timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

}  // namespace

Expected<Thread> decode_prstatus(std::string_view desc) {
    elf_prstatus status;
    if (desc.size() < sizeof status)
        return fail("NT_PRSTATUS note has " + std::to_string(desc.size()) + " bytes, expected " +
                    std::to_string(sizeof status));
    std::memcpy(&status, desc.data(), sizeof status);
    Thread thread;
    thread.tid = status.pr_pid;
    thread.pending_signal = status.pr_cursig;
    thread.user_seconds = seconds(status.pr_utime);
    thread.system_seconds = seconds(status.pr_stime);
    static_assert(sizeof status.pr_reg == sizeof(Registers));
    std::memcpy(&thread.regs, &status.pr_reg, sizeof thread.regs);
    thread.has_registers = true;
    return thread;
}

Expected<void> decode_prpsinfo(std::string_view desc, ProcessInfo& process) {
    elf_prpsinfo info;
    if (desc.size() < sizeof info)
        return fail("NT_PRPSINFO note has " + std::to_string(desc.size()) + " bytes, expected " +
                    std::to_string(sizeof info));
    std::memcpy(&info, desc.data(), sizeof info);
    process.pid = info.pr_pid;
    process.ppid = info.pr_ppid;
    process.uid = static_cast<int>(info.pr_uid);
    process.name = bounded_string(info.pr_fname, sizeof info.pr_fname);
    process.cmdline = bounded_string(info.pr_psargs, sizeof info.pr_psargs);
    while (!process.cmdline.empty() && process.cmdline.back() == ' ') process.cmdline.pop_back();
    return {};
}

Expected<SignalInfo> decode_siginfo(std::string_view desc, int* sender_uid) {
    siginfo_t info;
    if (desc.size() < sizeof info)
        return fail("NT_SIGINFO note has " + std::to_string(desc.size()) + " bytes, expected " +
                    std::to_string(sizeof info));
    std::memcpy(&info, desc.data(), sizeof info);
    SignalInfo signal;
    signal.signo = info.si_signo;
    signal.code = info.si_code;
    signal.error = info.si_errno;
    // Kernel-generated faults carry an address; signals a process sent carry its pid and uid.
    if (signal_is_fault(info.si_signo, info.si_code)) {
        signal.fault_address = reinterpret_cast<uint64_t>(info.si_addr);
    } else if (signal_has_sender(info.si_code)) {
        signal.sender_pid = info.si_pid;
        if (sender_uid) *sender_uid = static_cast<int>(info.si_uid);
    }
    return signal;
}

std::vector<AuxvEntry> decode_auxv(std::string_view desc) {
    std::vector<AuxvEntry> entries;
    for (size_t at = 0; at + 16 <= desc.size(); at += 16) {
        AuxvEntry entry;
        std::memcpy(&entry.type, desc.data() + at, 8);
        std::memcpy(&entry.value, desc.data() + at + 8, 8);
        if (entry.type == 0) break;  // AT_NULL
        entries.push_back(entry);
    }
    return entries;
}

bool apply_paratext(std::string_view json, ProcessInfo& process, std::vector<Thread>& threads) {
    auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return false;
    if (auto it = doc.find("cmdline"); it != doc.end() && it->is_array()) {
        std::string joined;
        for (const auto& arg : *it) {
            if (!arg.is_string()) continue;
            if (!joined.empty()) joined.push_back(' ');
            joined += arg.get<std::string>();
        }
        if (!joined.empty()) process.cmdline = joined;
    }
    if (auto it = doc.find("exe"); it != doc.end() && it->is_string() && process.executable.empty())
        process.executable = it->get<std::string>();
    // NSpid "4321\t7": the process ran in its own PID namespace (a container); 7 is its pid there.
    if (auto status = doc.find("status"); status != doc.end() && status->is_object())
        if (auto nspid = status->find("NSpid"); nspid != status->end() && nspid->is_string()) {
            std::string ids = nspid->get<std::string>();
            auto last = ids.find_last_of(" \t");
            int inner = last == std::string::npos ? 0 : std::atoi(ids.c_str() + last + 1);
            if (inner > 0 && inner != process.pid) process.namespace_pid = inner;
        }
    auto list = doc.find("threads");
    if (list == doc.end() || !list->is_array()) return true;
    for (const auto& entry : *list) {
        if (!entry.is_object() || !entry.contains("tid") || !entry["tid"].is_number_integer()) continue;
        int tid = entry["tid"].get<int>();
        for (auto& thread : threads) {
            if (thread.tid != tid) continue;
            if (entry.contains("name") && entry["name"].is_string()) thread.name = entry["name"].get<std::string>();
            if (entry.contains("nstid") && entry["nstid"].is_number_integer()) thread.namespace_tid = entry["nstid"].get<int>();
            if (entry.contains("state") && entry["state"].is_string() && !entry["state"].get<std::string>().empty())
                thread.state = entry["state"].get<std::string>()[0];
        }
    }
    return true;
}

}  // namespace snag
