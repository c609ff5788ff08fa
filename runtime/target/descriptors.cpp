// Descriptors of a live process from /proc/PID/fd, fdinfo and net/{tcp,tcp6,udp,udp6,unix}.
#include "target/descriptors.hpp"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "target/proc_fs.hpp"

namespace snag::proc {
namespace {

const char* tcp_state(unsigned st) {
    static const char* names[] = {"?", "established", "syn_sent", "syn_recv", "fin_wait1", "fin_wait2",
                                  "time_wait", "close", "close_wait", "last_ack", "listen", "closing"};
    return st < sizeof names / sizeof names[0] ? names[st] : "?";
}

// "0100007F:1F90" (IPv4) or 32 hex digits + port (IPv6, four host-order words) → "127.0.0.1:8080".
std::string address(const std::string& hex) {
    auto colon = hex.find(':');
    if (colon == std::string::npos) return "";
    std::string ip = hex.substr(0, colon);
    unsigned port = static_cast<unsigned>(std::strtoul(hex.c_str() + colon + 1, nullptr, 16));
    char buf[96];
    if (ip.size() == 8) {
        uint32_t a = static_cast<uint32_t>(std::strtoul(ip.c_str(), nullptr, 16));
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", a & 255, (a >> 8) & 255, (a >> 16) & 255, a >> 24, port);
        return buf;
    }
    if (ip.size() != 32) return "";
    std::string out = "[";
    for (int w = 0; w < 4; ++w) {
        uint32_t word = static_cast<uint32_t>(std::strtoul(ip.substr(w * 8, 8).c_str(), nullptr, 16));
        for (int b = 0; b < 4; b += 2) {
            std::snprintf(buf, sizeof buf, "%x", ((word >> (8 * b)) & 255) << 8 | ((word >> (8 * (b + 1))) & 255));
            if (out.size() > 1) out += ':';
            out += buf;
        }
    }
    std::snprintf(buf, sizeof buf, "]:%u", port);
    return out + buf;
}

// inode → socket, from the process's network namespace.
using SocketTable = std::map<uint64_t, SocketInfo>;

void read_inet(int pid, const char* protocol, SocketTable& out) {
    auto text = read_file(pid_path(pid, std::string("net/") + protocol));
    if (!text) return;
    std::istringstream in(*text);
    std::string line;
    std::getline(in, line);  // header
    bool tcp = std::string_view(protocol).starts_with("tcp");
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string slot, local, remote, st, queues, timer, retr, uid, timeout;
        uint64_t inode = 0;
        if (!(f >> slot >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) continue;
        SocketInfo s;
        s.protocol = protocol;
        unsigned state = static_cast<unsigned>(std::strtoul(st.c_str(), nullptr, 16));
        s.state = tcp ? tcp_state(state) : (state == 7 ? "unconnected" : "connected");
        s.local = address(local);
        s.remote = state == 10 || !tcp ? "" : address(remote);
        auto colon = queues.find(':');
        if (colon != std::string::npos) s.queue = std::strtoull(queues.c_str() + colon + 1, nullptr, 16);
        out[inode] = s;
    }
}

void read_unix(int pid, SocketTable& out) {
    auto text = read_file(pid_path(pid, "net/unix"));
    if (!text) return;
    std::istringstream in(*text);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string num, refs, proto, flags, type, st;
        uint64_t inode = 0;
        if (!(f >> num >> refs >> proto >> flags >> type >> st >> inode)) continue;
        std::string path;
        std::getline(f, path);
        path.erase(0, path.find_first_not_of(' '));
        SocketInfo s;
        s.protocol = "unix";
        bool accepting = std::strtoul(flags.c_str(), nullptr, 16) & 0x10000;  // __SO_ACCEPTCON
        s.state = accepting ? "listen" : (st == "03" ? "connected" : "unconnected");
        s.local = path;
        out[inode] = s;
    }
}

std::vector<int> epoll_watches(int pid, int fd) {
    std::vector<int> watched;
    auto text = read_file(pid_path(pid, "fdinfo/" + std::to_string(fd)));
    if (!text) return watched;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("tfd:")) watched.push_back(std::atoi(line.c_str() + 4));
    return watched;
}

uint64_t socket_inode(const std::string& link) {
    if (!link.starts_with("socket:[")) return 0;
    return std::strtoull(link.c_str() + 8, nullptr, 10);
}

}  // namespace

std::string descriptor_kind(std::string_view link) {
    if (link.starts_with("socket:")) return "socket";
    if (link.starts_with("pipe:")) return "pipe";
    if (link == "anon_inode:[eventpoll]") return "epoll";
    if (link == "anon_inode:[eventfd]") return "eventfd";
    if (link == "anon_inode:[signalfd]") return "signalfd";
    if (link == "anon_inode:[timerfd]") return "timerfd";
    if (link == "anon_inode:inotify") return "inotify";
    if (link.starts_with("/dev/")) return "device";
    if (link.starts_with("/")) return "file";
    return "other";
}

std::vector<Descriptor> read_descriptors(int pid) {
    std::vector<Descriptor> fds;
    std::string dir = pid_path(pid, "fd");
    DIR* d = ::opendir(dir.c_str());
    if (!d) return fds;
    while (auto* entry = ::readdir(d)) {
        if (entry->d_name[0] == '.') continue;
        Descriptor fd;
        fd.fd = std::atoi(entry->d_name);
        fd.target = read_link(dir + "/" + entry->d_name);
        fd.kind = descriptor_kind(fd.target);
        fds.push_back(std::move(fd));
    }
    ::closedir(d);
    std::sort(fds.begin(), fds.end(), [](const auto& a, const auto& b) { return a.fd < b.fd; });
    SocketTable sockets;
    bool any_socket = std::any_of(fds.begin(), fds.end(), [](const auto& f) { return f.kind == "socket"; });
    if (any_socket) {
        for (const char* p : {"tcp", "tcp6", "udp", "udp6"}) read_inet(pid, p, sockets);
        read_unix(pid, sockets);
    }
    for (auto& fd : fds) {
        if (fd.kind == "epoll") fd.watches = epoll_watches(pid, fd.fd);
        uint64_t inode = socket_inode(fd.target);  // 0: not a socket (TIME_WAIT rows have inode 0 too)
        if (auto it = sockets.find(inode); inode != 0 && it != sockets.end()) fd.socket = it->second;
    }
    return fds;
}

std::string descriptors_json(const std::vector<Descriptor>& fds) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& fd : fds) {
        nlohmann::json e = {{"fd", fd.fd}, {"target", fd.target}, {"kind", fd.kind}};
        if (!fd.watches.empty()) e["watches"] = fd.watches;
        if (fd.socket)
            e["socket"] = {{"protocol", fd.socket->protocol}, {"state", fd.socket->state},
                           {"local", fd.socket->local}, {"remote", fd.socket->remote}, {"queue", fd.socket->queue}};
        out.push_back(std::move(e));
    }
    return out.dump();
}

std::vector<Descriptor> descriptors_from_paratext(std::string_view paratext_json) {
    std::vector<Descriptor> fds;
    auto doc = nlohmann::json::parse(paratext_json.begin(), paratext_json.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("fds") || !doc["fds"].is_array()) return fds;
    auto text = [](const nlohmann::json& o, const char* key) {
        return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
    };
    for (const auto& e : doc["fds"]) {
        if (!e.is_object() || !e.contains("fd") || !e["fd"].is_number_integer()) continue;
        Descriptor fd;
        fd.fd = e["fd"].get<int>();
        fd.target = text(e, "target");
        fd.kind = e.contains("kind") ? text(e, "kind") : descriptor_kind(fd.target);  // older notes: no kind
        if (e.contains("watches") && e["watches"].is_array())
            for (const auto& w : e["watches"]) if (w.is_number_integer()) fd.watches.push_back(w.get<int>());
        if (e.contains("socket") && e["socket"].is_object()) {
            const auto& s = e["socket"];
            fd.socket = SocketInfo{text(s, "protocol"), text(s, "state"), text(s, "local"), text(s, "remote"),
                                   s.contains("queue") && s["queue"].is_number_unsigned() ? s["queue"].get<uint64_t>() : 0};
        }
        fds.push_back(std::move(fd));
    }
    return fds;
}

}  // namespace snag::proc
