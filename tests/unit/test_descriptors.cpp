// Descriptors of this very process (a listening socket, a pipe, an epoll set) and si_code names.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "target/descriptors.hpp"
#include "target/signal_names.hpp"

using namespace snag;

namespace {
const proc::Descriptor* find_fd(const std::vector<proc::Descriptor>& fds, int fd) {
    auto it = std::find_if(fds.begin(), fds.end(), [&](const auto& d) { return d.fd == fd; });
    return it == fds.end() ? nullptr : &*it;
}
}  // namespace

TEST_CASE("descriptors: a listening TCP socket with a connection in its backlog, a pipe, an epoll set") {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    int client = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);  // never accepted
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    REQUIRE(::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) == 0);

    auto fds = proc::read_descriptors(::getpid());
    const auto* l = find_fd(fds, listener);
    REQUIRE(l);
    CHECK(l->kind == "socket");
    REQUIRE(l->socket);
    CHECK(l->socket->protocol == "tcp");
    CHECK(l->socket->state == "listen");
    CHECK(l->socket->local == "127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
    CHECK(l->socket->queue == 1);  // the connection waiting for accept()
    const auto* c = find_fd(fds, client);
    REQUIRE(c);
    REQUIRE(c->socket);
    CHECK(c->socket->state == "established");
    CHECK(c->socket->remote == l->socket->local);
    CHECK(find_fd(fds, pipe_fds[0])->kind == "pipe");
    const auto* e = find_fd(fds, ep);
    REQUIRE(e);
    CHECK(e->kind == "epoll");
    CHECK(e->watches == std::vector<int>{listener});

    // What snag dump records in its paratext comes back the same from a core.
    auto back = proc::descriptors_from_paratext("{\"fds\":" + proc::descriptors_json(fds) + "}");
    REQUIRE(back.size() == fds.size());
    const auto* lb = find_fd(back, listener);
    REQUIRE(lb);
    REQUIRE(lb->socket);
    CHECK(lb->socket->local == l->socket->local);
    CHECK(lb->socket->queue == 1);
    CHECK(find_fd(back, ep)->watches == e->watches);
    CHECK(proc::descriptors_from_paratext("not json").empty());
    CHECK(proc::descriptors_from_paratext("{\"fds\":[{\"fd\":3,\"target\":\"pipe:[7]\"}]}")[0].kind == "pipe");

    for (int fd : {listener, client, pipe_fds[0], pipe_fds[1], ep}) ::close(fd);
}

TEST_CASE("signal names: si_code says fault or sender") {
    CHECK(signal_name(SIGSEGV) == "SIGSEGV");
    CHECK(signal_code_name(SIGSEGV, 1) == "SEGV_MAPERR");
    CHECK(signal_code_name(SIGSEGV, 2) == "SEGV_ACCERR");
    CHECK(signal_code_name(SIGBUS, 2) == "BUS_ADRERR");
    CHECK(signal_code_name(SIGFPE, 1) == "FPE_INTDIV");
    CHECK(signal_code_name(SIGSEGV, 0) == "SI_USER");
    CHECK(signal_code_name(SIGABRT, -6) == "SI_TKILL");
    CHECK(signal_code_name(SIGSEGV, 0x80) == "SI_KERNEL");
    CHECK(signal_code_name(SIGSEGV, 99).empty());
    CHECK(signal_is_fault(SIGSEGV, 1));
    CHECK_FALSE(signal_is_fault(SIGSEGV, 0));      // kill -SEGV: no address
    CHECK_FALSE(signal_is_fault(SIGSEGV, 0x80));   // SI_KERNEL: no address either
    CHECK_FALSE(signal_is_fault(SIGTERM, 1));
    CHECK(signal_has_sender(0));
    CHECK(signal_has_sender(-6));
    CHECK_FALSE(signal_has_sender(1));
}
