// Python Locks and exceptions: what a blocked thread waits on, who owns it, what is being raised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "python/frames.hpp"
#include "python/objects.hpp"

namespace snag::python {

struct LockInfo {
    std::string kind;          // "Lock" (_thread.lock) or "RLock" (_thread.RLock)
    uint64_t address = 0;
    bool state_known = true;   // false: the build's lock layout could not be verified
    bool locked = false;
    uint64_t owner_thread_id = 0;  // RLock only: the owner's threading ident, 0 = none
    uint64_t count = 0;            // RLock recursion count
    std::string unknown_reason;    // why the state is not shown, when !state_known
};

// The object a thread is blocked on: the receiver of acquire/__enter__/join/wait found in the
// innermost frame's value stack.
struct WaitTarget {
    std::string function;      // innermost Python function
    std::string type;          // type name of the object waited on
    uint64_t address = 0;
    std::optional<LockInfo> lock;
};

// A plain Lock a frame holds by a `with` block: the block keeps the lock's bound __exit__
// (≤3.13), or __exit__ and the lock itself (3.14+), on the frame's value stack until it ends.
// Python records no owner for a Lock: this is the evidence for a probable one.
struct HeldLock {
    uint64_t address = 0;
    size_t frame = 0;          // index into the thread's frames, innermost 0
};

struct ExceptionLink {
    std::string relation;      // "" for the first, then "cause" or "context"
    std::string type;
    std::string value;         // repr of the exception
    uint64_t address = 0;
};

struct ThreadException {
    std::string state;         // "handling" (in an except block) or "raising"
    std::vector<ExceptionLink> chain;  // the exception, then its __cause__/__context__ chain
};

// Decodes _thread.lock / _thread.RLock objects; nullopt for any other object.
std::optional<LockInfo> read_lock(Memory& memory, Objects& objects, const Layout& layout, uint64_t obj);

// The lock (or other waitable) referenced from the innermost frame's value stack. A lock whose
// state cannot be read is skipped, and why is appended to *unverified when given.
std::optional<WaitTarget> find_wait_target(Memory& memory, Objects& objects, const Layout& layout,
                                           const PyFrame& innermost, uint64_t own_thread_id,
                                           std::string* unverified = nullptr);

// The locked plain Locks whose `with` blocks are open in the thread's frames, once per frame.
// ≤3.11 and 3.14+ push __exit__ before __enter__ blocks: a thread waiting in `with lock:`
// shows that lock in its innermost frame too (the policy tells a waiter from a holder).
std::vector<HeldLock> find_with_locks(Memory& memory, Objects& objects, const Layout& layout, const FrameChain& stack);

// The exception chain starting at an exception object (bounded, cycle-safe).
std::vector<ExceptionLink> exception_chain(Memory& memory, Objects& objects, const Layout& layout,
                                           uint64_t exc, const ReprLimits& limits);

}  // namespace snag::python
