// The system calls snag names (x86_64 numbers from the kernel's headers) and the libc functions
// that wrap them, so a rule can tell a thread in epoll_wait from one in futex or read.
#include "target/syscalls.hpp"

#include <sys/syscall.h>

#include <cerrno>

#include <iterator>
#include <vector>

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

// Every x86_64 system call's name by number (the kernel's asm/unistd_64.h; "" where none).
const char* const kNames[] = {
    "read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap", "mprotect", "munmap",
    "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "pwrite64", "readv",
    "writev", "access", "pipe", "select", "sched_yield", "mremap", "msync", "mincore", "madvise", "shmget",
    "shmat", "shmctl", "dup", "dup2", "pause", "nanosleep", "getitimer", "alarm", "setitimer", "getpid",
    "sendfile", "socket", "connect", "accept", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
    "listen", "getsockname", "getpeername", "socketpair", "setsockopt", "getsockopt", "clone", "fork",
    "vfork", "execve", "exit", "wait4", "kill", "uname", "semget", "semop", "semctl", "shmdt", "msgget",
    "msgsnd", "msgrcv", "msgctl", "fcntl", "flock", "fsync", "fdatasync", "truncate", "ftruncate", "getdents",
    "getcwd", "chdir", "fchdir", "rename", "mkdir", "rmdir", "creat", "link", "unlink", "symlink", "readlink",
    "chmod", "fchmod", "chown", "fchown", "lchown", "umask", "gettimeofday", "getrlimit", "getrusage",
    "sysinfo", "times", "ptrace", "getuid", "syslog", "getgid", "setuid", "setgid", "geteuid", "getegid",
    "setpgid", "getppid", "getpgrp", "setsid", "setreuid", "setregid", "getgroups", "setgroups", "setresuid",
    "getresuid", "setresgid", "getresgid", "getpgid", "setfsuid", "setfsgid", "getsid", "capget", "capset",
    "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_sigsuspend", "sigaltstack", "utime", "mknod",
    "uselib", "personality", "ustat", "statfs", "fstatfs", "sysfs", "getpriority", "setpriority",
    "sched_setparam", "sched_getparam", "sched_setscheduler", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "mlock", "munlock", "mlockall", "munlockall",
    "vhangup", "modify_ldt", "pivot_root", "_sysctl", "prctl", "arch_prctl", "adjtimex", "setrlimit",
    "chroot", "sync", "acct", "settimeofday", "mount", "umount2", "swapon", "swapoff", "reboot",
    "sethostname", "setdomainname", "iopl", "ioperm", "create_module", "init_module", "delete_module",
    "get_kernel_syms", "query_module", "quotactl", "nfsservctl", "getpmsg", "putpmsg", "afs_syscall",
    "tuxcall", "security", "gettid", "readahead", "setxattr", "lsetxattr", "fsetxattr", "getxattr",
    "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr",
    "fremovexattr", "tkill", "time", "futex", "sched_setaffinity", "sched_getaffinity", "set_thread_area",
    "io_setup", "io_destroy", "io_getevents", "io_submit", "io_cancel", "get_thread_area", "lookup_dcookie",
    "epoll_create", "epoll_ctl_old", "epoll_wait_old", "remap_file_pages", "getdents64", "set_tid_address",
    "restart_syscall", "semtimedop", "fadvise64", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "clock_settime", "clock_gettime", "clock_getres", "clock_nanosleep",
    "exit_group", "epoll_wait", "epoll_ctl", "tgkill", "utimes", "vserver", "mbind", "set_mempolicy",
    "get_mempolicy", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "kexec_load", "waitid", "add_key", "request_key", "keyctl", "ioprio_set", "ioprio_get", "inotify_init",
    "inotify_add_watch", "inotify_rm_watch", "migrate_pages", "openat", "mkdirat", "mknodat", "fchownat",
    "futimesat", "newfstatat", "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat",
    "faccessat", "pselect6", "ppoll", "unshare", "set_robust_list", "get_robust_list", "splice", "tee",
    "sync_file_range", "vmsplice", "move_pages", "utimensat", "epoll_pwait", "signalfd", "timerfd_create",
    "eventfd", "fallocate", "timerfd_settime", "timerfd_gettime", "accept4", "signalfd4", "eventfd2",
    "epoll_create1", "dup3", "pipe2", "inotify_init1", "preadv", "pwritev", "rt_tgsigqueueinfo",
    "perf_event_open", "recvmmsg", "fanotify_init", "fanotify_mark", "prlimit64", "name_to_handle_at",
    "open_by_handle_at", "clock_adjtime", "syncfs", "sendmmsg", "setns", "getcpu", "process_vm_readv",
    "process_vm_writev", "kcmp", "finit_module", "sched_setattr", "sched_getattr", "renameat2", "seccomp",
    "getrandom", "memfd_create", "kexec_file_load", "bpf", "execveat", "userfaultfd", "membarrier", "mlock2",
    "copy_file_range", "preadv2", "pwritev2", "pkey_mprotect", "pkey_alloc", "pkey_free", "statx",
    "io_pgetevents", "rseq", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "pidfd_send_signal", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
    "fspick", "pidfd_open", "clone3", "close_range", "openat2", "pidfd_getfd", "faccessat2",
    "process_madvise", "epoll_pwait2", "mount_setattr", "quotactl_fd", "landlock_create_ruleset",
    "landlock_add_rule", "landlock_restrict_self", "memfd_secret", "process_mrelease", "futex_waitv",
    "set_mempolicy_home_node",
};

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

bool syscall_interrupted(long long rax) {
    // The kernel's internal restart codes (include/linux/errno.h), EINTR and ENOSYS.
    constexpr long long kRestartSys = 512, kRestartNoIntr = 513, kRestartNoHand = 514, kRestartBlock = 516;
    return rax == -kRestartSys || rax == -kRestartNoIntr || rax == -kRestartNoHand || rax == -kRestartBlock ||
           rax == -EINTR || rax == -ENOSYS;
}

const Syscall* syscall_by_number(long number) {
    // Every number with a name: snag's classified waits, the others of kind "other".
    static const std::vector<Syscall> table = [] {
        std::vector<Syscall> all;
        for (long n = 0; n < static_cast<long>(std::size(kNames)); ++n) all.push_back({n, kNames[n], "other", false});
        for (const Syscall& c : kCalls)
            if (c.number >= 0 && c.number < static_cast<long>(all.size())) all[static_cast<size_t>(c.number)] = c;
        return all;
    }();
    if (number < 0 || number >= static_cast<long>(table.size()) || !*table[static_cast<size_t>(number)].name)
        return nullptr;
    return &table[static_cast<size_t>(number)];
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
