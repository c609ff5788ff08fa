#include "dump/paratext.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "target/descriptors.hpp"
#include "target/proc_fs.hpp"

namespace snag::dump {
namespace {

std::map<int, proc::Stat> read_stats(int pid) {
    std::map<int, proc::Stat> stats;
    for (int tid : proc::list_tasks(pid))
        if (auto stat = proc::read_task_stat(pid, tid)) stats[tid] = *stat;
    return stats;
}

nlohmann::json status_fields(int pid) {
    nlohmann::json fields = nlohmann::json::object();
    auto text = proc::read_file(proc::pid_path(pid, "status"));
    if (!text) return fields;
    size_t pos = 0;
    while (pos < text->size()) {
        size_t eol = text->find('\n', pos);
        if (eol == std::string::npos) eol = text->size();
        std::string line = text->substr(pos, eol - pos);
        pos = eol + 1;
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        size_t value = line.find_first_not_of(" \t", colon + 1);
        fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
    }
    return fields;
}

nlohmann::json split_nul(const std::string& bytes) {
    nlohmann::json out = nlohmann::json::array();
    size_t pos = 0;
    while (pos < bytes.size()) {
        size_t nul = bytes.find('\0', pos);
        if (nul == std::string::npos) nul = bytes.size();
        out.push_back(bytes.substr(pos, nul - pos));
        pos = nul + 1;
    }
    return out;
}

// JSON strings must be valid UTF-8; /proc gives raw bytes.
std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
    return out;
}

nlohmann::json printable_strings(nlohmann::json value) {
    if (value.is_string()) return printable(value.get<std::string>());
    if (!value.is_array() && !value.is_object()) return value;
    for (auto& item : value) item = printable_strings(item);
    return value;
}

}  // namespace

std::vector<ThreadSample> sample_threads(int pid, double window_seconds) {
    auto before = read_stats(pid);
    if (window_seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(window_seconds));
    auto after = window_seconds > 0 ? read_stats(pid) : before;
    std::vector<ThreadSample> samples;
    for (const auto& [tid, stat] : after) {
        ThreadSample s{.tid = tid, .name = stat.comm, .state = stat.state,
                       .user_seconds = proc::ticks_to_seconds(stat.utime_ticks),
                       .system_seconds = proc::ticks_to_seconds(stat.stime_ticks)};
        auto old = before.find(tid);
        if (window_seconds > 0 && old != before.end()) {
            uint64_t used = stat.utime_ticks + stat.stime_ticks - old->second.utime_ticks - old->second.stime_ticks;
            s.cpu_percent = 100.0 * proc::ticks_to_seconds(used) / window_seconds;
        }
        samples.push_back(s);
    }
    return samples;
}

std::string build_paratext(int pid, const std::vector<ThreadSample>& threads, double window_seconds) {
    nlohmann::json doc;
    doc["format"] = "snag-paratext";
    doc["version"] = 1;
    doc["pid"] = pid;
    doc["time"] = static_cast<int64_t>(std::time(nullptr));
    doc["exe"] = proc::read_link(proc::pid_path(pid, "exe"));
    doc["cwd"] = proc::read_link(proc::pid_path(pid, "cwd"));
    doc["cmdline"] = split_nul(proc::read_file(proc::pid_path(pid, "cmdline")).value_or(""));
    std::string environ = proc::read_file(proc::pid_path(pid, "environ")).value_or("");
    doc["environ_bytes"] = environ.size();
    doc["environ_count"] = std::count(environ.begin(), environ.end(), '\0');
    doc["status"] = status_fields(pid);
    doc["fds"] = nlohmann::json::parse(proc::descriptors_json(proc::read_descriptors(pid)));
    doc["cpu_sample_seconds"] = window_seconds;
    doc["threads"] = nlohmann::json::array();
    for (const auto& t : threads) {
        nlohmann::json entry = {{"tid", t.tid}, {"name", t.name}, {"state", std::string(1, t.state)},
                                {"user_seconds", t.user_seconds}, {"system_seconds", t.system_seconds},
                                {"cpu_percent", t.cpu_percent}};
        // In a container: the TID its own code (CPython's native_thread_id) knows it by.
        if (auto status = proc::read_task_status(pid, t.tid); status && status->namespace_pid > 0 && status->namespace_pid != t.tid)
            entry["nstid"] = status->namespace_pid;
        doc["threads"].push_back(std::move(entry));
    }
    return printable_strings(std::move(doc)).dump();
}

}  // namespace snag::dump
