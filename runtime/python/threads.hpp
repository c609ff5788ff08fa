// Python Threads: every interpreter's thread states, with OS TIDs, names, GIL, frames, the lock
// each waits on and the exception each handles. One read of a stopped target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "python/frames.hpp"
#include "python/locks.hpp"
#include "python/runtime_discovery.hpp"

namespace snag::python {

struct PyThread {
    uint64_t thread_state = 0;   // PyThreadState*
    uint64_t thread_id = 0;      // threading ident (pthread_self)
    int tid = 0;                 // OS thread id, 0 when no live OS thread matches
    int64_t interpreter_id = 0;
    std::string name;            // threading.Thread name, empty when unknown
    bool holds_gil = false;
    bool waiting_for_gil = false;  // set from the native stack (see merge.hpp)
    // 3.13+ PyThreadState.state: 0 detached, 1 attached (may run bytecode), 2 suspended by a
    // stop-the-world pause; -1 unknown. Without a GIL, the attached threads are what runs.
    int attach_state = -1;
    bool gc_running = false;
    // An address on the C stack of the OS thread running it (3.11+: an eval loop's entry frame
    // or cframe), 0 when unknown: orders the thread states of nested interpreters on one thread.
    uint64_t c_stack = 0;
    FrameChain stack;
    std::optional<WaitTarget> waiting_on;
    std::vector<HeldLock> with_locks;  // plain Locks held by open `with` blocks (probable ownership)
    std::optional<ThreadException> exception;
};

struct PythonState {
    std::string version, module, found_by, layout_source;
    bool gil_known = false;      // false without a GIL and when the GIL is unreadable
    bool free_threaded = false;  // a --disable-gil build (3.13t, 3.14t)
    bool gil_disabled = false;   // free-threaded and running without the GIL (PYTHON_GIL=1 enables it)
    bool gc_collecting = false;
    std::vector<PyThread> threads;
    std::vector<std::string> warnings;
};

struct ReadOptions {
    bool locals = false;
    ReprLimits limits;
    size_t max_frames = 4096;
    size_t max_threads = 100000;
};

// Reads every thread state of every interpreter. Hostile memory gives partial results with the
// problem recorded in the thread's stack.error or in warnings; never throws.
PythonState read_python_state(Target& target, const PythonRuntime& runtime, const ReadOptions& options);

// The OS TID of a thread whose pthread_self() is thread_id (x86_64 glibc: pthread_self == fs_base).
int tid_for_pthread(Target& target, uint64_t thread_id);

}  // namespace snag::python
