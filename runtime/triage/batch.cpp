#include "triage/batch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

namespace snag::triage {
namespace {

using Clock = std::chrono::steady_clock;

struct Running {
    pid_t pid = -1;
    int out = -1, err = -1;
    JobResult result;
    Clock::time_point started;
};

// Starts job i; its stdout and stderr go to pipes this process reads.
bool start(size_t i, const std::function<int(size_t)>& work, Running& r) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return false;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        return false;
    }
    std::cout.flush();
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
        for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
        return false;
    }
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        int code = work(i);
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        _exit(code);
    }
    close(out[1]);
    close(err[1]);
    r = Running{pid, out[0], err[0], JobResult{}, Clock::now()};
    r.result.index = i;
    return true;
}

void finish(Running& r, bool timed_out) {
    int status = 0;
    if (timed_out) kill(r.pid, SIGKILL);
    while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (r.out >= 0) close(r.out);
    if (r.err >= 0) close(r.err);
    r.result.timed_out = timed_out;
    if (WIFEXITED(status)) r.result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.result.signal = WTERMSIG(status);
    r.result.seconds = std::chrono::duration<double>(Clock::now() - r.started).count();
}

// Reads what is there; closes the descriptor at end of file.
void drain(int& fd, std::string& into) {
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) into.append(buf, static_cast<size_t>(n));
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fd);
        fd = -1;
    }
}

}  // namespace

void run_batch(size_t count, const BatchOptions& options, const std::function<int(size_t)>& work,
               const std::function<void(JobResult&&)>& done, const std::function<bool(size_t)>& take) {
    size_t next = 0;
    std::vector<Running> running;
    size_t parallel = static_cast<size_t>(options.parallel < 1 ? 1 : options.parallel);
    while (next < count || !running.empty()) {
        while (next < count && running.size() < parallel) {
            if (take && !take(next)) {
                ++next;
                continue;
            }
            Running r;
            if (!start(next, work, r)) {
                JobResult failed;
                failed.index = next;
                failed.err = "snag: cannot start a worker process\n";
                done(std::move(failed));
            } else {
                running.push_back(std::move(r));
            }
            ++next;
        }
        std::vector<pollfd> fds;
        for (auto& r : running) {
            fds.push_back({r.out, POLLIN, 0});
            fds.push_back({r.err, POLLIN, 0});
        }
        poll(fds.data(), fds.size(), 200);
        for (size_t k = 0; k < running.size();) {
            Running& r = running[k];
            if (r.out >= 0 && (fds[2 * k].revents & (POLLIN | POLLHUP | POLLERR))) drain(r.out, r.result.out);
            if (r.err >= 0 && (fds[2 * k + 1].revents & (POLLIN | POLLHUP | POLLERR))) drain(r.err, r.result.err);
            double age = std::chrono::duration<double>(Clock::now() - r.started).count();
            bool late = age > options.timeout_seconds;
            if ((r.out < 0 && r.err < 0) || late) {
                finish(r, late && (r.out >= 0 || r.err >= 0));
                JobResult result = std::move(r.result);
                running.erase(running.begin() + static_cast<long>(k));
                fds.erase(fds.begin() + static_cast<long>(2 * k), fds.begin() + static_cast<long>(2 * k + 2));
                done(std::move(result));
                continue;
            }
            ++k;
        }
    }
}

}  // namespace snag::triage
