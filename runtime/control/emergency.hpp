// emergency: what live control must undo if snag dies (SIGTERM, SIGINT, SIGHUP, a crash, exit),
// kept in fixed arrays of atomics so the attach registry's signal-time hook can undo it without
// allocating: stop our threads, rewind a thread caught on an int3, restore every original byte,
// detach with the right signal.
#pragma once

#include <cstdint>

namespace snag::control::emergency {

enum class ThreadState : int { None = 0, Running = 1, Stopped = 2, Starting = 3 };

// Begins tracking one process (mem_fd: its /proc/PID/mem opened read-write). Registers the exit
// hook with the attach registry once. Only one process is controlled at a time.
void begin(int pid, int mem_fd);
void end();  // forgets everything (the controller let go normally)

bool set_site(uint64_t address, uint8_t original, bool inserted);  // false when full
void clear_site(uint64_t address);
void set_thread(int tid, ThreadState state, int pending_signal = 0);
void clear_thread(int tid);
// Thread tid stopped on our int3 at site (rip = site + 1) with stack pointer sp, not yet moved
// by the controller: the undo rewinds it onto site, but only while rip and sp still match (a
// thread already moved past the instruction by emulation is left alone). site 0: moved.
void set_trap(int tid, uint64_t site, uint64_t sp);

// Async-signal-safe: whether thread tid has a SIGTRAP queued but not yet delivered (a thread
// can report an interrupt stop first, its int3's SIGTRAP still pending).
bool sigtrap_pending(int pid, int tid);
// Async-signal-safe: lets a thread stopped one byte past one of our int3 take its pending
// SIGTRAP now (it executes nothing) and rewinds it onto the breakpoint address.
void flush_pending_trap(int tid);

// The hook itself (async-signal-safe); also callable directly, e.g. from tests.
void undo_all();

}  // namespace snag::control::emergency
