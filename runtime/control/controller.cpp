#include "control/controller.hpp"

#include "base/hex.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "control/emergency.hpp"
#include "target/attach_registry.hpp"
#include "target/process_target.hpp"

namespace snag::control {
namespace {

constexpr uint8_t kInt3 = 0xCC;
constexpr double kStopTimeoutSeconds = 3.0;
using Clock = std::chrono::steady_clock;

double now_seconds() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

long as_data(int signal) { return static_cast<long>(signal); }

// The termination signals whose handler runs the emergency undo (see Controller::hold_signals).
sigset_t termination_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int signo : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT}) sigaddset(&set, signo);
    return set;
}

// Waits for a tracer event (SIGCHLD, blocked) or a termination signal: sleeps in sigtimedwait,
// never busy-polls. Returns the termination signal it took, else 0.
int sleep_for_child(double seconds) {
    sigset_t wanted = termination_signals();
    sigaddset(&wanted, SIGCHLD);
    if (seconds < 0) seconds = 0;
    timespec ts{static_cast<time_t>(seconds), static_cast<long>((seconds - static_cast<time_t>(seconds)) * 1e9)};
    int signo = ::sigtimedwait(&wanted, nullptr, &ts);
    return signo > 0 && signo != SIGCHLD ? signo : 0;
}

emergency::ThreadState to_emergency(int state) { return static_cast<emergency::ThreadState>(state); }

}  // namespace

Controller::Controller(ProcessTarget& target) : target_(target), pid_(target.pid()) {
    mem_fd_ = ::open(("/proc/" + std::to_string(pid_) + "/mem").c_str(), O_RDWR | O_CLOEXEC);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::pthread_sigmask(SIG_BLOCK, &chld, nullptr);  // queued for sigtimedwait instead of dropped
    emergency::begin(pid_, mem_fd_);
    for (const auto& attached : target.attached_threads()) {
        if (!attached.traced) continue;
        ::ptrace(PTRACE_SETOPTIONS, attached.tid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACECLONE));
        threads_[attached.tid] = {ThreadInfo::State::Stopped, attached.pending_signal};
        emergency::set_thread(attached.tid, emergency::ThreadState::Stopped, attached.pending_signal);
    }
    target_.set_before_detach([this] { detach(); });
}

Controller::~Controller() { detach(); }

bool Controller::running_threads() const {
    for (const auto& [tid, info] : threads_)
        if (info.state != ThreadInfo::State::Stopped) return true;
    return false;
}

std::vector<int> Controller::tids() const {
    std::vector<int> out;
    for (const auto& [tid, info] : threads_) out.push_back(tid);
    return out;
}

// ---- memory and sites ----

bool Controller::write_byte(uint64_t address, uint8_t value) {
    bool ok = ::pwrite(mem_fd_, &value, 1, static_cast<off_t>(address)) == 1;
    target_.invalidate_memory_cache();
    return ok;
}

size_t Controller::read_code(uint64_t address, void* out, size_t len) const {
    ssize_t got = ::pread(mem_fd_, out, len, static_cast<off_t>(address));
    if (got <= 0) return 0;
    auto* bytes = static_cast<uint8_t*>(out);
    for (const auto& [site, info] : sites_)
        if (info.inserted && site >= address && site < address + static_cast<uint64_t>(got))
            bytes[site - address] = info.original;
    return static_cast<size_t>(got);
}

Expected<void> Controller::insert_site(uint64_t address) {
    auto it = sites_.find(address);
    if (it != sites_.end()) {
        it->second.users++;
        return {};
    }
    Site site;
    site.code_size = read_code(address, site.code, sizeof site.code);  // before our int3 is in
    if (::pread(mem_fd_, &site.original, 1, static_cast<off_t>(address)) != 1)
        return fail("Cannot insert breakpoint: cannot access memory at address " + hex(address) + ".");
    if (!emergency::set_site(address, site.original, true))
        return fail("Cannot insert breakpoint at " + hex(address) + ": too many breakpoint locations (1024).");
    if (!write_byte(address, kInt3)) {
        emergency::clear_site(address);
        return fail("Cannot insert breakpoint: cannot write memory at address " + hex(address) + ".");
    }
    site.users = 1;
    site.inserted = true;
    sites_[address] = site;
    return {};
}

void Controller::release_site(uint64_t address) {
    auto it = sites_.find(address);
    if (it == sites_.end() || --it->second.users > 0) return;
    if (it->second.inserted) write_byte(address, it->second.original);
    emergency::clear_site(address);
    sites_.erase(it);
}

// All or nothing: on a failure the sites inserted so far are released.
Expected<void> Controller::insert_sites(const std::vector<uint64_t>& addresses) {
    for (size_t i = 0; i < addresses.size(); ++i) {
        auto inserted = insert_site(addresses[i]);
        if (inserted) continue;
        for (size_t j = 0; j < i; ++j) release_site(addresses[j]);
        return std::unexpected(inserted.error());
    }
    return {};
}

void Controller::drop_unmapped_sites(const std::function<bool(uint64_t)>& mapped) {
    for (auto it = sites_.begin(); it != sites_.end();) {
        if (mapped(it->first)) {
            ++it;
            continue;
        }
        if (std::getenv("SNAG_CONTROL_TRACE")) std::fprintf(stderr, "control: site %s unmapped\n", hex(it->first).c_str());
        emergency::clear_site(it->first);
        if (it->first == library_hook_) library_hook_ = 0;
        it = sites_.erase(it);
    }
    for (auto& [id, bp] : breakpoints_)
        std::erase_if(bp.addresses, [&](uint64_t a) { return !mapped(a); });  // all gone: pending again
}

// ---- breakpoints ----

Expected<int> Controller::add_breakpoint(const std::string& location, std::vector<uint64_t> addresses,
                                         bool temporary) {
    if (!alive()) return fail("The program is not being run.");
    if (auto inserted = insert_sites(addresses); !inserted) return std::unexpected(inserted.error());
    Breakpoint bp;
    bp.id = next_id_++;
    bp.location = location;
    bp.addresses = std::move(addresses);
    bp.temporary = temporary;
    breakpoints_[bp.id] = bp;
    return bp.id;
}

Expected<void> Controller::resolve_pending(int id, std::vector<uint64_t> addresses) {
    auto* bp = breakpoint(id);
    if (!bp) return fail("No breakpoint number " + std::to_string(id) + ".");
    if (!bp->addresses.empty() || addresses.empty()) return {};
    if (bp->enabled)
        if (auto inserted = insert_sites(addresses); !inserted) return std::unexpected(inserted.error());
    bp->addresses = std::move(addresses);
    return {};
}

Expected<void> Controller::watch_library_loads(uint64_t address) {
    if (library_hook_ == address) return {};
    if (auto inserted = insert_site(address); !inserted) return std::unexpected(inserted.error());
    library_hook_ = address;
    return {};
}

Breakpoint* Controller::breakpoint(int id) {
    auto it = breakpoints_.find(id);
    return it == breakpoints_.end() ? nullptr : &it->second;
}

Expected<void> Controller::remove_breakpoint(int id) {
    auto* bp = breakpoint(id);
    if (!bp) return fail("No breakpoint number " + std::to_string(id) + ".");
    if (bp->enabled && alive())
        for (uint64_t address : bp->addresses) release_site(address);
    breakpoints_.erase(id);
    return {};
}

Expected<void> Controller::set_enabled(int id, bool enabled) {
    auto* bp = breakpoint(id);
    if (!bp) return fail("No breakpoint number " + std::to_string(id) + ".");
    if (bp->enabled == enabled) return {};
    if (enabled) {
        if (auto inserted = insert_sites(bp->addresses); !inserted) return std::unexpected(inserted.error());
    } else {
        for (uint64_t address : bp->addresses) release_site(address);
    }
    bp->enabled = enabled;
    return {};
}

// ---- threads ----

void Controller::set_thread_state(int tid, ThreadInfo::State state, int pending) {
    threads_[tid] = {state, pending};
    emergency::set_thread(tid, to_emergency(static_cast<int>(state) + 1), pending);
}

void Controller::adopt(int tid, ThreadInfo::State state) {
    if (threads_.count(tid)) return;
    attach_registry::add(tid);
    set_thread_state(tid, state);
    target_.adopt_thread(tid);
}

void Controller::thread_gone(int tid) {
    if (std::getenv("SNAG_CONTROL_TRACE")) std::fprintf(stderr, "control: thread %d gone (errno %d)\n", tid, errno);
    threads_.erase(tid);
    emergency::clear_thread(tid);
    attach_registry::remove(tid);
    target_.forget_thread(tid);
}

Expected<user_regs_struct> Controller::registers(int tid) const {
    user_regs_struct regs{};
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0)
        return fail("Cannot read the registers of thread " + std::to_string(tid) + ": " + std::strerror(errno) + ".");
    return regs;
}

void Controller::continue_thread(int tid) {
    auto& info = threads_[tid];
    if (::ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(as_data(info.pending_signal))) != 0) {
        if (errno == ESRCH) thread_gone(tid);  // killed while stopped; its exit is reaped later
        return;
    }
    set_thread_state(tid, ThreadInfo::State::Running);
}

void Controller::continue_all() {
    std::vector<int> stopped;
    for (const auto& [tid, info] : threads_)
        if (info.state == ThreadInfo::State::Stopped) stopped.push_back(tid);
    target_.set_stopped(false);
    for (int tid : stopped) continue_thread(tid);
}

bool Controller::hold_signals() {
    if (signals_held_) return false;
    sigset_t fatal = termination_signals();
    ::pthread_sigmask(SIG_BLOCK, &fatal, &unheld_mask_);
    signals_held_ = true;
    return true;
}

// A termination signal taken while sleeping is raised again with our hold lifted: its handler
// (the emergency undo, or the REPL's Ctrl-C) runs here, between events.
void Controller::sleep_for_event(double seconds) {
    int signo = sleep_for_child(seconds);
    if (signo == 0) return;
    bool held = signals_held_;
    release_signals();
    ::raise(signo);
    if (held) hold_signals();
}

void Controller::release_signals() {
    if (!signals_held_) return;
    signals_held_ = false;
    ::pthread_sigmask(SIG_SETMASK, &unheld_mask_, nullptr);
}

// Collects wait statuses until done(), the process is gone, or kStopTimeoutSeconds: exits are
// handled here, stops by on_stop (none: ignored).
void Controller::wait_until(const std::function<bool()>& done, const std::function<void(int, int)>& on_stop) {
    double deadline = now_seconds() + kStopTimeoutSeconds;
    while (alive() && !done() && now_seconds() < deadline) {
        int status = 0;
        bool held = hold_signals();
        pid_t tid = ::waitpid(-1, &status, __WALL | WNOHANG);
        if (tid > 0 && (WIFEXITED(status) || WIFSIGNALED(status))) on_exit_status(tid, status);
        else if (tid > 0 && on_stop) on_stop(tid, status);
        if (held) release_signals();
        if (tid == 0) sleep_for_event(0.05);
        if (tid < 0) break;
    }
}

void Controller::stop_all() {
    for (auto& [tid, info] : threads_)
        if (info.state == ThreadInfo::State::Running) ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    wait_until([this] { return !running_threads(); }, [this](int tid, int status) { on_interrupt_stop(tid, status); });
}

// A stop collected while stopping everybody: the thread stays stopped, nothing is lost.
void Controller::on_interrupt_stop(int tid, int status) {
    if (!threads_.count(tid)) adopt(tid, ThreadInfo::State::Stopped);
    int event = status >> 16;
    int pending = 0;
    if (event == PTRACE_EVENT_CLONE) {
        unsigned long child = 0;
        ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
        adopt(static_cast<int>(child), ThreadInfo::State::Starting);
    } else if (event != 0) {
        // Our interrupt may overtake the SIGTRAP of an int3 it just ran: take that trap now,
        // so no thread is left one byte past a breakpoint that may be removed before it runs.
        emergency::flush_pending_trap(tid);
    } else if (WSTOPSIG(status) == SIGTRAP) {
        // Caught on a breakpoint while we stopped the others: rewind, it hits again on resume.
        if (auto regs = registers(tid); regs && sites_.count(regs->rip - 1) && sites_[regs->rip - 1].inserted) {
            regs->rip -= 1;
            ::ptrace(PTRACE_SETREGS, tid, nullptr, &*regs);
        }
    } else {
        pending = signals_.policy(WSTOPSIG(status)).pass ? WSTOPSIG(status) : 0;
    }
    set_thread_state(tid, ThreadInfo::State::Stopped, pending);
}

void Controller::mark_stopped() {
    if (!alive()) return;
    target_.set_stopped(true);
    target_.refresh_registers();
}

// ---- stepping ----

std::optional<StopEvent> Controller::single_step(int tid) {
    for (;;) {
        // Signals stay pending (delivered on continue) so the step lands on the next instruction.
        if (::ptrace(PTRACE_SINGLESTEP, tid, nullptr, nullptr) != 0) {
            thread_gone(tid);
            return make_stop(StopReason::Exited, tid);
        }
        int status = 0;
        pid_t got;
        do got = ::waitpid(tid, &status, __WALL);
        while (got < 0 && errno == EINTR);
        if (got != tid || WIFEXITED(status) || WIFSIGNALED(status)) {
            if (auto exited = on_exit_status(tid, status)) return exited;
            return make_stop(StopReason::Exited, tid);
        }
        int event = status >> 16;
        if (event == PTRACE_EVENT_CLONE) {
            unsigned long child = 0;
            ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
            adopt(static_cast<int>(child), ThreadInfo::State::Starting);
            return std::nullopt;  // the clone syscall completed
        }
        if (event != 0) continue;  // a leftover interrupt: step again
        int sig = WSTOPSIG(status);
        if (sig == SIGTRAP) return std::nullopt;
        if (signals_.policy(sig).pass && threads_[tid].pending_signal == 0) threads_[tid].pending_signal = sig;
    }
}

Expected<void> Controller::step_over_sites() {
    for (auto& [tid, info] : std::map<int, ThreadInfo>(threads_)) {
        // Only threads whose hit was counted: one rewound while we stopped it hits again instead.
        if (info.state != ThreadInfo::State::Stopped || !step_over_.count(tid)) continue;
        auto regs = registers(tid);
        if (!regs) continue;
        auto site = sites_.find(regs->rip);
        if (site == sites_.end() || !site->second.inserted) continue;
        if (step_displaced(tid, *regs)) continue;
        // Put the original instruction back for this one step; every other thread is stopped.
        write_byte(site->first, site->second.original);
        site->second.inserted = false;
        emergency::set_site(site->first, site->second.original, false);
        auto stop = single_step(tid);
        if (!alive()) return {};
        site = sites_.find(regs->rip);
        if (site != sites_.end()) {
            write_byte(site->first, kInt3);
            site->second.inserted = true;
            emergency::set_site(site->first, site->second.original, true);
        }
        if (stop && stop->reason == StopReason::Exited && !alive()) return {};
    }
    step_over_.clear();
    return {};
}

Expected<StopEvent> Controller::step_instruction(int tid, bool over_calls, const HitHandler& handler) {
    if (!alive()) return fail("The program is not being run.");
    if (!threads_.count(tid)) return fail("Thread " + std::to_string(tid) + " is not traced.");
    auto before = registers(tid);
    if (!before) return std::unexpected(before.error());
    auto site = sites_.find(before->rip);
    bool lifted = site != sites_.end() && site->second.inserted;
    if (lifted) {
        write_byte(site->first, site->second.original);
        site->second.inserted = false;
        emergency::set_site(site->first, site->second.original, false);
    }
    auto stop = single_step(tid);
    if (lifted && alive() && sites_.count(before->rip)) {
        write_byte(before->rip, kInt3);
        sites_[before->rip].inserted = true;
        emergency::set_site(before->rip, sites_[before->rip].original, true);
    }
    if (stop) return *stop;
    auto after = registers(tid);
    if (!after) return std::unexpected(after.error());
    if (over_calls && after->rsp == before->rsp - 8) {
        // A call pushed its return address just past the instruction: run until it returns.
        uint64_t pushed = 0;
        if (::pread(mem_fd_, &pushed, 8, static_cast<off_t>(after->rsp)) == 8 && pushed > before->rip &&
            pushed <= before->rip + 16)
            return run_to_return(tid, pushed, after->rsp, handler);
    }
    if (sites_.count(after->rip)) step_over_.insert(tid);  // resuming from here runs the instruction
    mark_stopped();
    return make_stop(StopReason::Step, tid);
}

Expected<StopEvent> Controller::run_to_return(int tid, uint64_t return_address, uint64_t sp,
                                              const HitHandler& handler) {
    auto inserted = insert_site(return_address);
    if (!inserted) return std::unexpected(inserted.error());
    return_trap_ = ReturnTrap{tid, return_address, sp};
    auto stop = resume(handler, {});
    if (return_trap_) {
        if (alive()) release_site(return_trap_->address);
        return_trap_.reset();
    }
    return stop;
}

// ---- running ----

std::optional<std::pair<int, int>> Controller::wait_event(double deadline, const RunLimits& limits) {
    for (;;) {
        // Checked before every event too: a stream of hits must not outlast --seconds or Ctrl-C.
        if (deadline > 0 && now_seconds() >= deadline) return std::nullopt;
        if (limits.interrupted && limits.interrupted()) return std::nullopt;
        int status = 0;
        // Held from here until the stop is recorded (resume() and the hit handling release it);
        // kept while sleeping too, where sleep_for_event takes termination signals itself.
        hold_signals();
        pid_t tid = ::waitpid(-1, &status, __WALL | WNOHANG);
        if (tid > 0) return std::pair{static_cast<int>(tid), status};
        if (tid < 0 && errno == ECHILD) return std::pair{-1, 0};
        double slice = 0.05;
        if (deadline > 0) slice = std::min(slice, std::max(0.0, deadline - now_seconds()));
        sleep_for_event(slice);
    }
}

std::optional<StopEvent> Controller::on_exit_status(int tid, int status) {
    if (std::getenv("SNAG_CONTROL_TRACE")) std::fprintf(stderr, "control: exit status %d of %d\n", status, tid);
    if (!threads_.count(tid) && tid != pid_) return std::nullopt;
    thread_gone(tid);
    if (tid != pid_) return std::nullopt;
    // The leader's status arrives last: the whole process is gone.
    StopEvent event = make_stop(StopReason::Exited, tid);
    if (WIFSIGNALED(status)) event.signal = WTERMSIG(status);
    else if (WIFEXITED(status)) event.exit_code = WEXITSTATUS(status);
    for (auto& [left, info] : threads_) {
        emergency::clear_thread(left);
        attach_registry::remove(left);
    }
    forget_process();
    return event;
}

// The process is no longer ours (exited or detached): no threads, sites or memory handle left.
void Controller::forget_process() {
    threads_.clear();
    sites_.clear();
    emergency::end();
    target_.set_before_detach(nullptr);
    target_.set_stopped(false);
    if (mem_fd_ >= 0) ::close(mem_fd_);
    mem_fd_ = -1;
    pid_ = 0;
}

Expected<std::optional<StopEvent>> Controller::on_stop(int tid, int status, const HitHandler& handler,
                                                       uint64_t& hits) {
    if (!threads_.count(tid)) adopt(tid, ThreadInfo::State::Starting);
    int event = status >> 16;
    if (event == PTRACE_EVENT_CLONE) {
        unsigned long child = 0;
        ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &child);
        adopt(static_cast<int>(child), ThreadInfo::State::Starting);
        threads_[tid].pending_signal = 0;
        continue_thread(tid);
        return std::optional<StopEvent>{};
    }
    int sig = WSTOPSIG(status);
    if (event != 0) {
        // A new thread's first stop, a leftover interrupt or a group-stop: keep it running.
        threads_[tid].pending_signal = 0;
        continue_thread(tid);
        return std::optional<StopEvent>{};
    }
    if (sig == SIGTRAP) {
        auto regs = registers(tid);
        if (!regs) return std::unexpected(regs.error());
        uint64_t address = regs->rip - 1;
        auto site = sites_.find(address);
        bool ours = site != sites_.end() && site->second.inserted;
        if (ours) emergency::set_trap(tid, address, regs->rsp);  // before it counts as stopped
        set_thread_state(tid, ThreadInfo::State::Stopped);
        if (ours) return on_site_hit(tid, *regs, address, handler, hits);
    }
    const auto& policy = signals_.policy(sig);
    if (!policy.stop && sig != SIGTRAP) {
        threads_[tid].pending_signal = policy.pass ? sig : 0;
        continue_thread(tid);
        return std::optional<StopEvent>{};
    }
    set_thread_state(tid, ThreadInfo::State::Stopped, policy.pass ? sig : 0);
    stop_all();
    return std::optional{make_stop(StopReason::Signal, tid, 0, sig)};
}

Expected<StopEvent> Controller::resume(const HitHandler& handler, const RunLimits& limits) {
    if (!alive()) return fail("The program is not being run.");
    uint64_t hits = 0;
    limits_max_hits_ = limits.max_hits;
    double deadline = limits.seconds > 0 ? now_seconds() + limits.seconds : 0;
    struct Release {  // every way out of here lets termination signals through again
        Controller* c;
        ~Release() { c->release_signals(); }
    } release{this};
    for (;;) {
        release_signals();  // single-steps below may block (a syscall): never with signals held
        auto stepped = step_over_sites();
        if (!stepped) return std::unexpected(stepped.error());
        if (!alive()) return make_stop(StopReason::Exited);
        continue_all();
        bool restart = false;
        while (!restart) {
            auto event = wait_event(deadline, limits);
            if (!event) {
                stop_all();
                mark_stopped();
                bool timed_out = deadline > 0 && now_seconds() >= deadline;
                return make_stop(timed_out ? StopReason::Timeout : StopReason::Interrupted);
            }
            auto [tid, status] = *event;
            if (tid < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
                if (tid < 0) return make_stop(StopReason::Exited);
                if (auto exited = on_exit_status(tid, status)) return *exited;
                continue;
            }
            auto outcome = on_stop(tid, status, handler, hits);
            if (!outcome) {
                stop_all();
                mark_stopped();
                return std::unexpected(outcome.error());
            }
            if (*outcome) {
                mark_stopped();
                return **outcome;
            }
            restart = !running_threads();  // a hit was handled with everything stopped
        }
    }
}

void Controller::set_pending_signal(int tid, int signal) {
    auto it = threads_.find(tid);
    if (it == threads_.end()) return;
    it->second.pending_signal = signal;
    emergency::set_thread(tid, to_emergency(static_cast<int>(it->second.state) + 1), signal);
}

// ---- letting go ----

void Controller::detach() {
    if (!alive()) return;
    stop_all();
    if (!alive()) return;
    for (auto& [address, site] : sites_)
        if (site.inserted) write_byte(address, site.original);
    for (auto& [address, site] : sites_) emergency::clear_site(address);
    sites_.clear();
    for (auto& [tid, info] : threads_) {
        if (info.state == ThreadInfo::State::Stopped)
            ::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(as_data(info.pending_signal)));
        else
            attach_registry::detach(tid, 0);  // could not stop it: the registry keeps trying
        emergency::clear_thread(tid);
        attach_registry::remove(tid);
    }
    forget_process();
}

void Controller::kill() {
    if (!alive()) return;
    int pid = pid_;
    ::kill(pid, SIGKILL);
    wait_until([] { return false; }, nullptr);  // until the leader's exit is reaped
    if (alive()) on_exit_status(pid, 9);       // forget it even if the leader was reaped elsewhere
}

}  // namespace snag::control
