// Controller, hits: what happens when a thread stops on one of our int3 — counted alone, handled
// with only the hitting thread stopped, or with every thread stopped — and the emulated step
// past the instruction under the int3.
#include <sys/ptrace.h>

#include <algorithm>

#include "control/controller.hpp"
#include "control/displaced.hpp"
#include "control/emergency.hpp"
#include "target/process_target.hpp"

namespace snag::control {

bool Controller::step_displaced(int tid, const user_regs_struct& regs) {
    auto site = sites_.find(regs.rip);
    if (site == sites_.end()) return false;
    auto emulated = emulate_instruction(site->second.code, site->second.code_size, regs);
    if (!emulated) return false;
    if (emulated->pushed) {
        // One word: PTRACE_POKEDATA is the cheapest write (this runs at every hit). The target's
        // memory cache needs no flush: the thread runs next, and every stop refreshes it.
        if (::ptrace(PTRACE_POKEDATA, tid, reinterpret_cast<void*>(emulated->regs.rsp),
                     reinterpret_cast<void*>(*emulated->pushed)) != 0)
            return false;
    }
    return ::ptrace(PTRACE_SETREGS, tid, nullptr, &emulated->regs) == 0;
}

bool Controller::counting_only(uint64_t address) const {
    if (address == library_hook_ || (return_trap_ && return_trap_->address == address)) return false;
    bool any = false;
    for (const auto& [id, bp] : breakpoints_) {
        if (!bp.enabled || std::find(bp.addresses.begin(), bp.addresses.end(), address) == bp.addresses.end())
            continue;
        if (!bp.continue_only || !bp.condition.empty() || bp.temporary || bp.lua_action) return false;
        any = true;
    }
    return any;
}

void Controller::count_hit(Breakpoint& bp, uint64_t& hits) {
    bp.hits++;
    ++hits;
    if (bp.ignore_count > 0) bp.ignore_count--;
}

Expected<std::optional<StopEvent>> Controller::on_breakpoint(int tid, uint64_t address, const HitHandler& handler,
                                                             uint64_t& hits) {
    if (return_trap_ && return_trap_->address == address && return_trap_->tid == tid) {
        auto regs = registers(tid);
        if (regs && regs->rsp > return_trap_->sp) return std::optional{make_stop(StopReason::Finished, tid)};
    }
    if (address == library_hook_ && handler.libraries_changed) handler.libraries_changed();
    std::vector<int> ids;
    for (const auto& [id, bp] : breakpoints_)
        if (bp.enabled)
            for (uint64_t a : bp.addresses)
                if (a == address) ids.push_back(id);
    std::optional<StopEvent> stop;
    for (int id : ids) {
        auto* bp = breakpoint(id);
        if (!bp || !bp->enabled) continue;
        if (!bp->condition.empty() && handler.condition) {
            auto holds = handler.condition(*bp, tid);
            if (!holds) {
                StopEvent error = make_stop(StopReason::ActionError, tid, id);
                error.message = "Error in testing condition for breakpoint " + std::to_string(id) + ": " +
                                holds.error().message;
                return std::optional{error};
            }
            if (!*holds) continue;
        }
        bool ignored = bp->ignore_count > 0;
        count_hit(*bp, hits);
        if (ignored) continue;
        bool wants_stop = true;
        if (handler.action) {
            auto decided = handler.action(*bp, tid);
            if (!decided) {
                StopEvent error = make_stop(StopReason::ActionError, tid, id);
                error.message = decided.error().message;
                return std::optional{error};
            }
            wants_stop = *decided;
        }
        bp = breakpoint(id);
        if (bp && bp->temporary) remove_breakpoint(id);
        if (wants_stop && !stop) stop = make_stop(StopReason::Breakpoint, tid, id);
    }
    return stop;
}

// A thread stopped on one of our int3 at address (regs as the trap left them).
Expected<std::optional<StopEvent>> Controller::on_site_hit(int tid, user_regs_struct regs, uint64_t address,
                                                           const HitHandler& handler, uint64_t& hits) {
    regs.rip = address;
    // Counting only: past the int3 by emulation, this thread alone, the others never stop.
    if (counting_only(address) && step_displaced(tid, regs)) {
        for (auto& [id, bp] : breakpoints_)
            if (bp.enabled && std::find(bp.addresses.begin(), bp.addresses.end(), address) != bp.addresses.end())
                count_hit(bp, hits);
        continue_thread(tid);
        if (!limits_max_hits_ || hits < limits_max_hits_) return std::optional<StopEvent>{};
        stop_all();
        mark_stopped();
        return std::optional{make_stop(StopReason::HitLimit, tid)};
    }
    ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
    emergency::set_trap(tid, 0, 0);  // rewound: nothing left to undo
    release_signals();               // recorded: the handler may take long
    // An action that reads only the hitting thread (trace) runs with the others running.
    bool alone = hitting_thread_only(address);
    if (!alone) stop_all();
    mark_stopped();
    auto outcome = on_breakpoint(tid, address, handler, hits);
    bool limit = outcome && !*outcome && limits_max_hits_ && hits >= limits_max_hits_;
    if (alone && outcome && !*outcome && !limit) {
        auto now = registers(tid);
        if (now && now->rip == address && step_displaced(tid, *now)) {
            target_.set_stopped(false);
            continue_thread(tid);
            return std::optional<StopEvent>{};
        }
    }
    if (alone) {  // a stop, an error, or no emulation: everybody stops as usual
        stop_all();
        mark_stopped();
    }
    step_over_.insert(tid);
    if (limit) return std::optional{make_stop(StopReason::HitLimit, tid)};
    return outcome;
}

bool Controller::hitting_thread_only(uint64_t address) const {
    auto site = sites_.find(address);
    if (site == sites_.end() || address == library_hook_ || (return_trap_ && return_trap_->address == address))
        return false;
    user_regs_struct probe{};
    if (!emulate_instruction(site->second.code, site->second.code_size, probe)) return false;
    bool any = false;
    for (const auto& [id, bp] : breakpoints_) {
        if (!bp.enabled || std::find(bp.addresses.begin(), bp.addresses.end(), address) == bp.addresses.end())
            continue;
        if (!bp.hitting_thread_only) return false;
        any = true;
    }
    return any;
}

}  // namespace snag::control
