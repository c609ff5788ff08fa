#include "triage/signature.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>

#include "base/fnv.hpp"

namespace snag::triage {
namespace {

constexpr size_t kPythonFrames = 5;   // ABRT and Socorro use a handful of top frames too
constexpr size_t kNativeFrames = 5;
constexpr size_t kNativeAbovePython = 2;   // native code a Python frame called (a C extension)

std::string basename(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Names after normalisation, leading underscores gone (glibc's ___pthread_cond_wait, __GI_raise).
const char* const kSkipped[] = {
    // libc waits: a thread blocked anywhere ends in these
    "futex_wait", "futex_abstimed_wait", "futex_abstimed_wait_common", "futex_abstimed_wait_common64",
    "futex_abstimed_wait_cancelable64", "futex_wait_cancelable", "lll_lock_wait", "lll_lock_wait_private",
    "pthread_cond_wait", "pthread_cond_wait_common", "pthread_cond_timedwait", "pthread_cond_clockwait",
    "pthread_mutex_lock", "pthread_mutex_lock_full", "pthread_mutex_cond_lock", "pthread_rwlock_rdlock",
    "pthread_rwlock_wrlock", "pthread_join", "pthread_clockjoin_ex", "do_futex_wait", "new_sem_wait_slow64",
    "new_sem_wait_slow", "new_sem_wait", "sem_wait", "sem_timedwait", "sem_clockwait", "poll", "ppoll", "epoll_wait",
    "epoll_pwait", "select", "pselect", "pselect6", "nanosleep", "clock_nanosleep", "sleep", "usleep",
    "read", "libc_read", "recv", "recvfrom", "recvmsg", "accept", "accept4", "wait4", "waitpid", "syscall",
    "internal_syscall_cancel", "syscall_cancel", "syscall_cancel_arch",
    // abort and raise: a crash by a signal a process raised itself
    "pthread_kill", "pthread_kill_implementation", "pthread_kill_internal", "raise", "gsignal", "abort",
    "assert_fail", "assert_fail_base", "libc_message", "libc_message_impl", "fortify_fail", "stack_chk_fail",
    "restore_rt", "malloc_printerr",
    // the allocator: a heap corruption is found there, not caused there
    "malloc", "libc_malloc", "int_malloc", "free", "libc_free", "int_free", "int_free_merge_chunk",
    "calloc", "libc_calloc", "realloc", "libc_realloc", "int_realloc", "cfree", "tcache_get", "tcache_put",
    "operator new", "operator delete", "operator new[]", "operator delete[]",
};

bool starts_with_any(const std::string& s, std::initializer_list<const char*> prefixes) {
    for (const char* p : prefixes)
        if (s.starts_with(p)) return true;
    return false;
}

std::string native_part(const SigFrame& f) {
    std::string fn = f.function.empty() ? "?" : normalize_function(f.function);
    std::string module = normalize_module(f.module);
    return module.empty() ? fn : module + "!" + fn;
}

std::string python_part(const SigFrame& f) {
    // The last part of a qualified name: Python 3.11+ says Thread.run where 3.10 says run.
    std::string fn = f.function.empty() ? "?" : f.function.substr(f.function.rfind('.') + 1);
    return f.file.empty() ? fn : fn + " (" + basename(f.file) + ")";
}

// Native frames from the top, the skip list's frames at the top left out (all of them only when
// nothing else remains: a thread that is only a wait is that wait).
std::vector<std::string> native_parts(const std::vector<SigFrame>& frames, size_t max, bool stop_at_interpreter) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start < frames.size() && skipped_frame(normalize_function(frames[start].function))) ++start;
    if (start == frames.size() && !stop_at_interpreter && !frames.empty()) start = frames.size() - 1;
    for (size_t i = start; i < frames.size() && parts.size() < max; ++i) {
        if (stop_at_interpreter && interpreter_frame(frames[i])) break;
        parts.push_back(native_part(frames[i]));
    }
    return parts;
}

std::string thread_part(const SigThread& t) {
    std::vector<std::string> parts;
    if (!t.python.empty()) {
        // Native code the innermost Python frame called, then the Python frames: the interpreter's
        // own frames between them differ by Python version and say nothing of the bug.
        parts = native_parts(t.native, kNativeAbovePython, true);
        for (size_t i = 0; i < t.python.size() && i < kPythonFrames; ++i) parts.push_back(python_part(t.python[i]));
    } else {
        parts = native_parts(t.native, kNativeFrames, false);
    }
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : " < ") + p;
    return out.empty() ? "?" : out;
}

}  // namespace

std::string normalize_function(const std::string& name) {
    std::string n = name;
    // C++ parameter lists and clone suffixes (.isra.0, .constprop.3, .part.1, .cold): the compiler's.
    if (auto paren = n.find('('); paren != std::string::npos && paren > 0) n.resize(paren);
    if (auto dot = n.find('.'); dot != std::string::npos && dot > 0) n.resize(dot);
    if (auto at = n.find('@'); at != std::string::npos && at > 0) n.resize(at);
    size_t lead = n.find_first_not_of('_');
    if (lead == std::string::npos) return n;
    n = n.substr(lead);
    if (n.starts_with("GI_")) n = n.substr(n.find_first_not_of('_', 3));
    // glibc's CPU-specific string functions (strlen_evex, memmove_avx_unaligned_erms): the machine's.
    static const std::regex cpu_variant(R"(_(sse2|sse4_[12]|ssse3|avx|avx2|avx512[a-z]*|evex|evex256|evex512|erms|unaligned|rtm)(_.*)?$)");
    return std::regex_replace(n, cpu_variant, "");
}

std::string normalize_module(const std::string& path) {
    static const std::regex so_version(R"(\.so(\.[0-9]+)+$)");
    static const std::regex python_version(R"(python[0-9]+(\.[0-9]+)*[a-z]*)");
    static const std::regex extension_abi(R"(\.cpython-[0-9]+[a-z]*-[^.]*)");
    std::string m = basename(path);
    m = std::regex_replace(m, extension_abi, "");
    m = std::regex_replace(m, so_version, ".so");
    m = std::regex_replace(m, python_version, "python");
    return m;
}

bool skipped_frame(const std::string& fn) {
    for (const char* s : kSkipped)
        if (fn == s) return true;
    return false;
}

bool interpreter_frame(const SigFrame& f) {
    std::string module = normalize_module(f.module);
    if (module == "python" || module.starts_with("libpython")) return true;
    std::string fn = normalize_function(f.function);
    return starts_with_any(f.function, {"_Py", "Py", "_PyEval", "method_vectorcall", "cfunction_",
                                        "slot_tp_", "thread_run", "pythread_wrapper", "t_bootstrap"}) ||
           fn == "start_thread" || fn == "clone" || fn == "clone3";
}

Signature signature_of(const std::string& rule, const std::vector<SigThread>& subject,
                       const std::vector<SigFrame>& frames, const std::string& rule_bucket) {
    if (!rule_bucket.empty()) return Signature{rule_bucket, rule + " | " + rule_bucket};
    std::vector<std::string> parts;
    for (const auto& t : subject) parts.push_back(thread_part(t));
    if (parts.empty()) {
        for (const auto& f : frames) parts.push_back(f.python ? python_part(f) : native_part(f));
    }
    // A wait-for cycle has no first thread: sorted, T1 waits for T2 is T2 waits for T1.
    std::sort(parts.begin(), parts.end());
    std::string text = rule;
    for (const auto& p : parts) text += " | " + p;
    return Signature{rule + "-" + hex64(fnv1a(kFnvOffset, text)), text};
}

}  // namespace snag::triage
