// descriptors: a process's open file descriptors and what each is (a listening TCP socket and its
// accept backlog, a pipe, an epoll instance and the descriptors it watches), read from /proc live
// and recorded in snag's paratext note so cores written by `snag dump` keep them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace snag::proc {

struct SocketInfo {
    std::string protocol;   // tcp, tcp6, udp, udp6, unix
    std::string state;      // listen, established, close_wait, unconnected, connected...
    std::string local, remote;  // "127.0.0.1:8000", unix path; empty when unknown
    uint64_t queue = 0;     // receive queue; for a listening TCP socket, connections waiting for accept()
};

struct Descriptor {
    int fd = -1;
    std::string target;     // readlink of /proc/PID/fd/N: "socket:[123]", "/var/log/x", "anon_inode:[eventpoll]"
    std::string kind;       // socket, pipe, file, device, epoll, eventfd, signalfd, timerfd, inotify, other
    std::optional<SocketInfo> socket;
    std::vector<int> watches;   // epoll: the descriptors it watches (from /proc/PID/fdinfo)
};

// The kind of a descriptor from its link text.
std::string descriptor_kind(std::string_view link);

// Every descriptor of a live process, ascending; empty when /proc cannot be read.
std::vector<Descriptor> read_descriptors(int pid);

// The descriptors as JSON text (snag's paratext "fds" array) and back.
std::string descriptors_json(const std::vector<Descriptor>& fds);
std::vector<Descriptor> descriptors_from_paratext(std::string_view paratext_json);

}  // namespace snag::proc
