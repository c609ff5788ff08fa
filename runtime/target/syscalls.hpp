// syscalls: the x86_64 system calls a thread can be stopped in (orig_rax), and the libc functions
// that wrap them, with the kind of wait each is. Mechanism only: which waits are idle is policy
// (stdlib/snag/idle.lua).
#pragma once

#include <string_view>

namespace snag {

struct Syscall {
    long number;           // x86_64 number; -1 for a libc function that is no system call of its own
    const char* name;      // "epoll_wait"
    const char* kind;      // io, poll, accept, signal, time, child, sync, or other (no wait)
    bool fd_first;         // the first argument is the descriptor waited on (select's is a count)
};

// Whether a thread stopped with orig_rax >= 0 is still inside that call: rax then holds the kernel's
// "interrupted, restart" codes (-ERESTARTSYS and kin, -EINTR) or -ENOSYS at a syscall-entry stop.
// Any other rax is the call's result: it has returned and the thread is on its way back to user
// code (a stop taken right after a read of a regular file or an openat), so it waits for nothing.
bool syscall_interrupted(long long rax);

// The call by its x86_64 number, nullptr when snag has no entry for it.
const Syscall* syscall_by_number(long number);
// The call a libc function makes, by the function's name as symbols show it ("__GI___poll",
// "__libc_recv", "epoll_wait_nocancel", "pthread_cond_timedwait"); nullptr when unknown.
const Syscall* syscall_by_function(std::string_view function);

}  // namespace snag
