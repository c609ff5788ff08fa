#include "target/proc_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace snag::proc {
namespace {

std::string_view next_field(std::string_view& rest) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(start);
    size_t end = rest.find(' ');
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return field;
}

template <class T>
bool parse_number(std::string_view text, T& out, int base = 10) {
    if (text.empty()) return false;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::optional<Stat> parse_stat(std::string_view line) {
    size_t open = line.find('(');
    size_t close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
    Stat stat;
    std::string_view tid_text = line.substr(0, open);
    while (!tid_text.empty() && tid_text.back() == ' ') tid_text.remove_suffix(1);
    if (!parse_number(tid_text, stat.tid)) return std::nullopt;
    stat.comm = std::string(line.substr(open + 1, close - open - 1));
    // Fields after comm, numbered as in proc(5): 3 state, 4 ppid, ... 14 utime, 15 stime.
    std::string_view rest = line.substr(close + 1);
    std::string_view fields[13];
    for (auto& field : fields) {
        field = next_field(rest);
        if (field.empty()) return std::nullopt;
    }
    if (fields[0].size() != 1) return std::nullopt;
    stat.state = fields[0][0];
    if (!parse_number(fields[1], stat.ppid)) return std::nullopt;
    if (!parse_number(fields[11], stat.utime_ticks) || !parse_number(fields[12], stat.stime_ticks))
        return std::nullopt;
    return stat;
}

std::optional<Status> parse_status(std::string_view text) {
    Status status;
    bool saw_name = false;
    while (!text.empty()) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view key = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        size_t skip = value.find_first_not_of(" \t");
        value.remove_prefix(skip == std::string_view::npos ? value.size() : skip);
        if (key == "Name") {
            status.name = std::string(value);  // the kernel escapes '\n' in names, so one line
            saw_name = true;
        } else if (key == "State" && !value.empty()) {
            status.state = value[0];
        } else if (key == "Tgid") {
            parse_number(next_field(value), status.tgid);
        } else if (key == "PPid") {
            parse_number(next_field(value), status.ppid);
        } else if (key == "TracerPid") {
            parse_number(next_field(value), status.tracer_pid);
        } else if (key == "NSpid") {  // "host\tparent-ns\t...\tinnermost"
            std::string copy(value);
            std::replace(copy.begin(), copy.end(), '\t', ' ');
            std::string_view fields = copy;
            for (auto field = next_field(fields); !field.empty(); field = next_field(fields))
                parse_number(field, status.namespace_pid);
        } else if (key == "Seccomp") {
            parse_number(next_field(value), status.seccomp);
        } else if (key == "Uid") {
            std::string copy(value);
            std::replace(copy.begin(), copy.end(), '\t', ' ');
            std::string_view fields = copy;
            parse_number(next_field(fields), status.real_uid);
            parse_number(next_field(fields), status.effective_uid);
        }
    }
    if (!saw_name) return std::nullopt;
    return status;
}

std::optional<Mapping> parse_maps_line(std::string_view line) {
    // "start-end perms offset dev inode" then spaces, then the path (which may contain spaces).
    std::string_view rest = line;
    std::string_view range = next_field(rest);
    std::string_view perms = next_field(rest);
    std::string_view offset = next_field(rest);
    std::string_view dev = next_field(rest);
    std::string_view inode = next_field(rest);
    size_t dash = range.find('-');
    if (dash == std::string_view::npos || perms.size() != 4 || dev.empty() || inode.empty())
        return std::nullopt;
    Mapping mapping;
    if (!parse_number(range.substr(0, dash), mapping.start, 16) ||
        !parse_number(range.substr(dash + 1), mapping.end, 16) ||
        !parse_number(offset, mapping.file_offset, 16))
        return std::nullopt;
    mapping.perms = std::string(perms);
    size_t path_start = rest.find_first_not_of(' ');
    if (path_start != std::string_view::npos) mapping.path = std::string(rest.substr(path_start));
    return mapping;
}

std::vector<Mapping> parse_maps(std::string_view text) {
    std::vector<Mapping> mappings;
    while (!text.empty()) {
        size_t eol = text.find('\n');
        if (auto mapping = parse_maps_line(text.substr(0, eol))) mappings.push_back(std::move(*mapping));
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    }
    return mappings;
}

std::vector<AuxvEntry> parse_auxv(std::string_view bytes) {
    std::vector<AuxvEntry> entries;
    for (size_t at = 0; at + 16 <= bytes.size(); at += 16) {
        AuxvEntry entry;
        std::memcpy(&entry.type, bytes.data() + at, 8);
        std::memcpy(&entry.value, bytes.data() + at + 8, 8);
        entries.push_back(entry);
        if (entry.type == 0) break;
    }
    return entries;
}

std::string join_cmdline(std::string_view bytes) {
    while (!bytes.empty() && bytes.back() == '\0') bytes.remove_suffix(1);
    std::string out(bytes);
    std::replace(out.begin(), out.end(), '\0', ' ');
    return out;
}

std::optional<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char buffer[8192];
    for (;;) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            bool failed = got < 0 && out.empty();
            ::close(fd);
            if (failed) return std::nullopt;
            return out;
        }
        out.append(buffer, static_cast<size_t>(got));
    }
}

std::string pid_path(int pid, std::string_view leaf) {
    return "/proc/" + std::to_string(pid) + "/" + std::string(leaf);
}

std::string task_path(int pid, int tid, std::string_view leaf) {
    return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/" + std::string(leaf);
}

std::vector<int> list_tasks(int pid) {
    std::vector<int> tids;
    DIR* dir = ::opendir(pid_path(pid, "task").c_str());
    if (!dir) return tids;
    while (dirent* entry = ::readdir(dir)) {
        int tid = 0;
        std::string_view name = entry->d_name;
        if (parse_number(name, tid) && tid > 0) tids.push_back(tid);
    }
    ::closedir(dir);
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::optional<Stat> read_task_stat(int pid, int tid) {
    auto text = read_file(task_path(pid, tid, "stat"));
    if (!text) return std::nullopt;
    return parse_stat(*text);
}

std::optional<Status> read_status(int pid) {
    auto text = read_file(pid_path(pid, "status"));
    if (!text) return std::nullopt;
    return parse_status(*text);
}

std::optional<Status> read_task_status(int pid, int tid) {
    auto text = read_file(task_path(pid, tid, "status"));
    if (!text) return std::nullopt;
    return parse_status(*text);
}

std::string read_link(const std::string& path) {
    char buffer[4096];
    ssize_t got = ::readlink(path.c_str(), buffer, sizeof buffer - 1);
    if (got < 0) return {};
    return std::string(buffer, static_cast<size_t>(got));
}

double ticks_to_seconds(uint64_t ticks) {
    static const long hz = [] {
        long value = ::sysconf(_SC_CLK_TCK);
        return value > 0 ? value : 100;
    }();
    return static_cast<double>(ticks) / static_cast<double>(hz);
}

}  // namespace snag::proc
