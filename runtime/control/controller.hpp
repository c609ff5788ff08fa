// Controller: execution control of an attached process — every thread stopped and resumed
// together, software breakpoints (int3 over saved original bytes, stepped over per thread on
// resume), new and exiting threads followed (PTRACE_O_TRACECLONE), signals per `handle`.
// Breakpoint Action policy (conditions, commands, Lua) is the caller's, through HitHandler.
#pragma once

#include <signal.h>
#include <sys/user.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "control/signals.hpp"

namespace snag {
class ProcessTarget;
}

namespace snag::control {

struct Breakpoint {
    int id = 0;
    std::string location;             // as the user wrote it
    std::vector<uint64_t> addresses;  // every match (aliases, several modules); none: pending
    bool enabled = true;
    bool temporary = false;           // tbreak: deleted at its first (condition-true) hit
    int ignore_count = 0;
    uint64_t hits = 0;
    std::string condition;            // evaluated by the HitHandler; empty = always
    std::string commands;             // `commands … end` body, run by the HitHandler
    int lua_action = 0;               // a Lua registry reference (target:break_at), 0 = none
    // Its commands are just "silent / continue": a hit is counted by the controller alone (no
    // handler call, the other threads keep running).
    bool continue_only = false;
    // Its condition and action read only the hitting thread (trace): the others keep running.
    bool hitting_thread_only = false;
};

enum class StopReason { Breakpoint, Signal, Step, Finished, Interrupted, Timeout, HitLimit, Exited, ActionError };

struct StopEvent {
    StopReason reason = StopReason::Interrupted;
    int tid = 0;
    int breakpoint = 0;   // Breakpoint: its id
    int signal = 0;       // Signal: the signal; Exited: the killing signal (0 = normal exit)
    int exit_code = 0;    // Exited normally
    std::string message;  // ActionError: why
};

inline StopEvent make_stop(StopReason reason, int tid = 0, int breakpoint = 0, int signal = 0) {
    StopEvent event;
    event.reason = reason;
    event.tid = tid;
    event.breakpoint = breakpoint;
    event.signal = signal;
    return event;
}

// What the caller decides at a hit: the condition first (a false one is not a hit), then the action.
struct HitHandler {
    std::function<Expected<bool>(const Breakpoint&, int tid)> condition;
    std::function<Expected<bool>(const Breakpoint&, int tid)> action;  // true: stop here
    // The dynamic linker finished loading or unloading libraries (the library hook was hit,
    // every thread stopped): re-resolve pending breakpoints.
    std::function<void()> libraries_changed;
};

struct RunLimits {
    double seconds = 0;                 // 0: no time limit
    uint64_t max_hits = 0;              // stop after this many hits (condition true); 0: none
    std::function<bool()> interrupted;  // polled every 50 ms (Ctrl-C)
};

class Controller {
public:
    explicit Controller(ProcessTarget& target);
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    int pid() const { return pid_; }
    bool alive() const { return pid_ != 0; }
    bool running_threads() const;
    std::vector<int> tids() const;

    // ---- breakpoints ----
    // No addresses: a pending breakpoint, resolved later by resolve_pending().
    Expected<int> add_breakpoint(const std::string& location, std::vector<uint64_t> addresses, bool temporary);
    Expected<void> resolve_pending(int id, std::vector<uint64_t> addresses);
    // Stops at address (ld.so's r_brk) to call HitHandler::libraries_changed. Idempotent.
    Expected<void> watch_library_loads(uint64_t address);
    // After an unload: forgets sites whose address is no longer mapped (nothing to restore there).
    void drop_unmapped_sites(const std::function<bool(uint64_t)>& mapped);
    Expected<void> remove_breakpoint(int id);
    Expected<void> set_enabled(int id, bool enabled);
    Breakpoint* breakpoint(int id);
    const std::map<int, Breakpoint>& breakpoints() const { return breakpoints_; }
    int last_breakpoint() const { return next_id_ - 1; }

    // ---- execution ----
    // Runs every thread until a stop the user must see; hits are decided by handler.
    Expected<StopEvent> resume(const HitHandler& handler, const RunLimits& limits);
    // One instruction in thread tid (the others stay stopped); over_calls: `nexti`.
    Expected<StopEvent> step_instruction(int tid, bool over_calls, const HitHandler& handler);
    // Runs until the frame of tid returns to return_address (stack pointer above sp).
    Expected<StopEvent> run_to_return(int tid, uint64_t return_address, uint64_t sp, const HitHandler& handler);
    // Stops every thread now (Break-in); no-op when all are stopped.
    void stop_all();
    // Removes every breakpoint byte, resumes and lets go of every thread. Idempotent.
    void detach();
    // SIGKILL and reap. Idempotent.
    void kill();

    SignalTable& signals() { return signals_; }
    // The signal a stopped thread gets when it resumes or is detached (JIT: SIGSTOP instead of
    // the fatal signal, so the process waits for its core to be written).
    void set_pending_signal(int tid, int signal);
    // Registers of a stopped thread (fresh from the kernel).
    Expected<user_regs_struct> registers(int tid) const;
    // Reads memory with breakpoint bytes shown as the original code.
    size_t read_code(uint64_t address, void* out, size_t len) const;

private:
    struct ThreadInfo {
        enum class State { Running, Stopped, Starting } state = State::Stopped;
        int pending_signal = 0;
    };
    struct Site {
        uint8_t original = 0;
        int users = 0;  // enabled breakpoints (and internal ones) at this address
        bool inserted = false;
        uint8_t code[16] = {};  // the original instruction bytes from here, for step_displaced
        size_t code_size = 0;
    };

    Expected<void> insert_site(uint64_t address);
    Expected<void> insert_sites(const std::vector<uint64_t>& addresses);
    void release_site(uint64_t address);
    bool write_byte(uint64_t address, uint8_t value);
    void set_thread_state(int tid, ThreadInfo::State state, int pending = 0);
    void thread_gone(int tid);
    void forget_process();
    void adopt(int tid, ThreadInfo::State state);
    void wait_until(const std::function<bool()>& done, const std::function<void(int, int)>& on_stop);
    // Termination signals (their handler runs the emergency undo) wait while a stop waitpid took
    // is not yet recorded: the undo would wait for a report that never comes. hold: true when
    // newly held (only that caller releases).
    bool hold_signals();
    void release_signals();
    void sleep_for_event(double seconds);
    void on_interrupt_stop(int tid, int status);
    void continue_all();
    void continue_thread(int tid);
    Expected<void> step_over_sites();
    // Runs the instruction under the int3 at regs.rip by emulation (the int3 stays); false: not
    // an emulated instruction, or its stack write failed (single-step it instead).
    bool step_displaced(int tid, const user_regs_struct& regs);
    // A hit that only counts: true when every enabled breakpoint at address is continue_only.
    bool counting_only(uint64_t address) const;
    bool hitting_thread_only(uint64_t address) const;  // and the instruction there is emulated
    Expected<std::optional<StopEvent>> on_site_hit(int tid, user_regs_struct regs, uint64_t address,
                                                   const HitHandler& handler, uint64_t& hits);
    void count_hit(Breakpoint& bp, uint64_t& hits);
    std::optional<StopEvent> single_step(int tid);  // nullopt: stepped
    std::optional<std::pair<int, int>> wait_event(double deadline_seconds, const RunLimits& limits);
    std::optional<StopEvent> on_exit_status(int tid, int status);
    // A thread reported a stop while running; returns a StopEvent when the user must see it.
    Expected<std::optional<StopEvent>> on_stop(int tid, int status, const HitHandler& handler, uint64_t& hits);
    Expected<std::optional<StopEvent>> on_breakpoint(int tid, uint64_t address, const HitHandler& handler,
                                                     uint64_t& hits);
    void mark_stopped();

    ProcessTarget& target_;
    int pid_ = 0;
    int mem_fd_ = -1;
    std::map<int, ThreadInfo> threads_;
    std::map<uint64_t, Site> sites_;
    std::map<int, Breakpoint> breakpoints_;
    int next_id_ = 1;
    SignalTable signals_;
    struct ReturnTrap {
        int tid = 0;
        uint64_t address = 0;
        uint64_t sp = 0;
    };
    std::optional<ReturnTrap> return_trap_;
    uint64_t limits_max_hits_ = 0;
    std::set<int> step_over_;  // threads stopped on a breakpoint whose hit was counted
    uint64_t library_hook_ = 0;
    bool signals_held_ = false;
    sigset_t unheld_mask_{};  // ld.so's r_brk once a pending breakpoint exists
};

}  // namespace snag::control
