// The system calls snag names (x86_64 numbers from the kernel's headers) and the libc functions
// that wrap them, so a rule can tell a thread in epoll_wait from one in futex or read.
#include "target/syscalls.hpp"

#include <sys/syscall.h>

#include <iterator>

namespace snag {
namespace {

#define SNAG_CALL(name, kind, fd) {SYS_##name, #name, kind, fd}
const Syscall kCalls[] = {
    SNAG_CALL(read, "io", true), SNAG_CALL(pread64, "io", true), SNAG_CALL(readv, "io", true),
    SNAG_CALL(preadv, "io", true), SNAG_CALL(preadv2, "io", true), SNAG_CALL(recvfrom, "io", true),
    SNAG_CALL(recvmsg, "io", true), SNAG_CALL(recvmmsg, "io", true), SNAG_CALL(write, "io", true),
    SNAG_CALL(pwrite64, "io", true), SNAG_CALL(writev, "io", true), SNAG_CALL(sendto, "io", true),
    SNAG_CALL(sendmsg, "io", true), SNAG_CALL(sendmmsg, "io", true), SNAG_CALL(connect, "io", true),
    SNAG_CALL(io_getevents, "io", false), SNAG_CALL(msgrcv, "io", false), SNAG_CALL(msgsnd, "io", false),
    SNAG_CALL(fsync, "io", true), SNAG_CALL(fdatasync, "io", true), SNAG_CALL(openat, "io", false),
    SNAG_CALL(poll, "poll", false), SNAG_CALL(select, "poll", false), SNAG_CALL(pselect6, "poll", false),
    SNAG_CALL(ppoll, "poll", false), SNAG_CALL(epoll_wait, "poll", true), SNAG_CALL(epoll_pwait, "poll", true),
    SNAG_CALL(epoll_pwait2, "poll", true), SNAG_CALL(io_uring_enter, "poll", true),
    SNAG_CALL(accept, "accept", true), SNAG_CALL(accept4, "accept", true),
    SNAG_CALL(pause, "signal", false), SNAG_CALL(rt_sigsuspend, "signal", false),
    SNAG_CALL(rt_sigtimedwait, "signal", false),
    SNAG_CALL(nanosleep, "time", false), SNAG_CALL(clock_nanosleep, "time", false),
    SNAG_CALL(wait4, "child", false), SNAG_CALL(waitid, "child", false),
    SNAG_CALL(futex, "sync", false), SNAG_CALL(futex_waitv, "sync", false), SNAG_CALL(semop, "sync", false),
    SNAG_CALL(semtimedop, "sync", false), SNAG_CALL(flock, "sync", true), SNAG_CALL(fcntl, "sync", true),
    SNAG_CALL(mmap, "other", false), SNAG_CALL(munmap, "other", false), SNAG_CALL(mprotect, "other", false),
    SNAG_CALL(brk, "other", false), SNAG_CALL(close, "other", true), SNAG_CALL(ioctl, "other", true),
    SNAG_CALL(clone, "other", false), SNAG_CALL(clone3, "other", false), SNAG_CALL(execve, "other", false),
    SNAG_CALL(exit, "other", false), SNAG_CALL(exit_group, "other", false), SNAG_CALL(madvise, "other", false),
    SNAG_CALL(sched_yield, "other", false), SNAG_CALL(getpid, "other", false),
};
#undef SNAG_CALL

// libc functions that wait without a system call of the same name.
const Syscall kWrappers[] = {
    {-1, "select64", "poll", false}, {-1, "sleep", "time", false}, {-1, "usleep", "time", false},
    {-1, "waitpid", "child", false}, {-1, "recv", "io", true}, {-1, "send", "io", true},
    {-1, "sigwait", "signal", false}, {-1, "sigwaitinfo", "signal", false},
    {-1, "sigtimedwait", "signal", false}, {-1, "sigsuspend", "signal", false},
    {-1, "pthread_cond_wait", "sync", false}, {-1, "pthread_cond_timedwait", "sync", false},
    {-1, "pthread_cond_clockwait", "sync", false}, {-1, "sem_wait", "sync", false},
    {-1, "sem_timedwait", "sync", false}, {-1, "sem_clockwait", "sync", false},
    {-1, "pthread_join", "child", false}, {-1, "pthread_timedjoin_np", "child", false},
};

// glibc's symbols for one function: __GI___poll, __libc_recv, __read_nocancel, ___pthread_cond_wait.
std::string_view bare(std::string_view name) {
    for (std::string_view prefix : {"__GI_", "__libc_", "_"}) {
        while (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
    }
    constexpr std::string_view kNocancel = "_nocancel";
    if (name.size() > kNocancel.size() && name.substr(name.size() - kNocancel.size()) == kNocancel)
        name.remove_suffix(kNocancel.size());
    return name;
}

}  // namespace

const Syscall* syscall_by_number(long number) {
    for (const Syscall& c : kCalls) {
        if (c.number == number) return &c;
    }
    return nullptr;
}

const Syscall* syscall_by_function(std::string_view function) {
    std::string_view name = bare(function);
    for (const Syscall& c : kCalls) {
        if (name == c.name) return &c;
    }
    for (const Syscall& c : kWrappers) {
        if (name == c.name) return &c;
    }
    return nullptr;
}

}  // namespace snag
