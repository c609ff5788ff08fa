// attach_registry: every ptrace-attached TID of this snag process, in storage a signal handler may
// touch (fixed arrays of atomics, no allocation), so any exit path can let the targets run on.
#pragma once

namespace snag::attach_registry {

// Remembers tid as attached by the calling thread; signal is re-delivered on emergency detach.
// Returns false when the registry is full (the caller should refuse to attach more threads).
bool add(int tid, int pending_signal = 0);
void remove(int tid);
bool contains(int tid);
int count();

// Detaches one registered (or merely traced) tid, stopping it first if it runs, and forgets it.
// A thread that cannot stop now (uninterruptible sleep) stays registered as lingering.
void detach(int tid, int signal);
// Detaches lingering threads that have stopped since; returns how many still linger.
int retry_lingering();

// Async-signal-safe: runs the exit hooks, then PTRACE_DETACHes every registered TID (stopping a
// running tracee first if needed) and empties the registry.
void detach_all();

// Async-signal-safe work to do before the emergency detach (e.g. removing breakpoints). The hook
// runs inside signal handlers: it must only call async-signal-safe functions. At most 8 hooks.
bool add_exit_hook(void (*hook)());

// Installs detach-then-die handlers for SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGSEGV, SIGBUS, SIGABRT,
// SIGFPE, SIGILL, plus std::set_terminate and atexit. Idempotent. A later sigaction by another
// component (e.g. a REPL's own SIGINT) replaces snag's for that signal; it should call detach_all()
// itself before exiting.
void install_exit_handlers();

}  // namespace snag::attach_registry
