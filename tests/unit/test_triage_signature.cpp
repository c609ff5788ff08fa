// Bucket signatures: what must not change a bucket, and what must (docs/triage.md).
#include <doctest/doctest.h>

#include "triage/signature.hpp"

namespace {

using namespace snag::triage;

SigFrame native(const std::string& fn, const std::string& module) { return SigFrame{false, fn, "", module}; }
SigFrame py(const std::string& fn, const std::string& file) { return SigFrame{true, fn, file, ""}; }

// A Python thread waiting for a lock at fn: libc's wait frames, the interpreter, then Python.
SigThread lock_waiter(const std::string& fn, const std::string& python = "3.11",
                      const std::string& stdlib = "/usr/lib/python3.11/threading.py") {
    std::string exe = "/usr/bin/python" + python;
    return SigThread{{native("__futex_abstimed_wait_common", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                      native("__new_sem_wait_slow64.constprop.0", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                      native("PyThread_acquire_lock_timed", exe), native("rlock_acquire", exe),
                      native("_PyEval_EvalFrameDefault", exe), native("start_thread", "libc.so.6")},
                     {py(fn, "/srv/app/bank.py"), py("run", stdlib), py("_bootstrap_inner", stdlib)}};
}

std::string key(const std::vector<SigThread>& threads, const std::string& rule = "python-deadlock") {
    return signature_of(rule, threads, {}).key;
}

}  // namespace

TEST_CASE("signature: a deadlock is the same bucket whatever the thread order, Python patch version or paths") {
    std::string base = key({lock_waiter("transfer_a_to_b"), lock_waiter("transfer_b_to_a")});
    // The other thread first (another PID, another scheduling).
    CHECK(key({lock_waiter("transfer_b_to_a"), lock_waiter("transfer_a_to_b")}) == base);
    // Python 3.12 instead of 3.11: other interpreter frames, other stdlib path.
    auto newer = lock_waiter("transfer_a_to_b", "3.12", "/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py");
    newer.native.insert(newer.native.begin() + 2, native("lock_PyThread_acquire_lock", "/usr/bin/python3.12"));
    CHECK(key({newer, lock_waiter("transfer_b_to_a", "3.12")}) == base);
    // Another checkout of the application (paths) is the same code.
    auto moved = lock_waiter("transfer_a_to_b");
    moved.python[0].file = "/home/ci/work/bank.py";
    CHECK(key({moved, lock_waiter("transfer_b_to_a")}) == base);
    CHECK(signature_of("python-deadlock", {lock_waiter("transfer_a_to_b"), lock_waiter("transfer_b_to_a")}, {}).text ==
          "python-deadlock | transfer_a_to_b (bank.py) < run (threading.py) < _bootstrap_inner (threading.py)"
          " | transfer_b_to_a (bank.py) < run (threading.py) < _bootstrap_inner (threading.py)");
}

TEST_CASE("signature: other code, another rule or another cycle is another bucket") {
    std::string base = key({lock_waiter("transfer_a_to_b"), lock_waiter("transfer_b_to_a")});
    CHECK(key({lock_waiter("transfer_a_to_b"), lock_waiter("audit")}) != base);
    CHECK(key({lock_waiter("transfer_a_to_b"), lock_waiter("transfer_b_to_a")}, "wait-chain") != base);
    CHECK(key({lock_waiter("transfer_a_to_b")}) != base);
    auto other_file = lock_waiter("transfer_a_to_b");
    other_file.python[0].file = "/srv/app/ledger.py";
    CHECK(key({other_file, lock_waiter("transfer_b_to_a")}) != base);
}

TEST_CASE("signature: a native crash skips abort and the allocator, keeps the code that called them") {
    const std::string libc = "/lib/x86_64-linux-gnu/libc.so.6";
    SigThread crash{{native("__pthread_kill_implementation", libc), native("__GI_raise", libc),
                     native("__GI_abort", libc), native("malloc_printerr", libc), native("_int_free", libc),
                     native("cache_evict(entry*)", "/opt/svc/bin/server"), native("handle_request.isra.0", "/opt/svc/bin/server"),
                     native("worker_main", "/opt/svc/bin/server"), native("start_thread", libc)},
                    {}};
    auto sig = signature_of("crash", {crash}, {});
    CHECK(sig.text == "crash | server!cache_evict < server!handle_request < server!worker_main < libc.so!start_thread");
    // Another glibc (so version, line numbers are not in the key), another build of the server.
    SigThread again = crash;
    for (auto& f : again.native)
        if (f.module == libc) f.module = "/usr/lib64/libc.so.7";
    CHECK(signature_of("crash", {again}, {}).key == sig.key);
    SigThread elsewhere = crash;
    elsewhere.native[5].function = "cache_insert(entry*)";
    CHECK(signature_of("crash", {elsewhere}, {}).key != sig.key);
}

TEST_CASE("signature: normalisation of names and modules") {
    CHECK(normalize_function("___pthread_cond_wait") == "pthread_cond_wait");
    CHECK(normalize_function("__GI___poll") == "poll");
    CHECK(normalize_function("ns::Cache::evict(int) const") == "ns::Cache::evict");
    CHECK(normalize_function("do_work.constprop.3") == "do_work");
    CHECK(normalize_module("/usr/lib/x86_64-linux-gnu/libc.so.6") == "libc.so");
    CHECK(normalize_module("/usr/lib/libpython3.11.so.1.0") == "libpython.so");
    CHECK(normalize_module("/root/.pyenv/versions/3.12.1/bin/python3.12") == "python");
    CHECK(normalize_module("/usr/lib/python3/dist-packages/_cffi_backend.cpython-311-x86_64-linux-gnu.so") ==
          "_cffi_backend.so");
    CHECK(skipped_frame("lll_lock_wait"));
    CHECK_FALSE(skipped_frame("transfer"));
    CHECK(interpreter_frame(SigFrame{false, "_PyEval_EvalFrameDefault", "", "/usr/bin/python3.11"}));
    CHECK_FALSE(interpreter_frame(SigFrame{false, "ffi_call_unix64", "", "/usr/lib/libffi.so.8"}));
}

TEST_CASE("signature: a bucket the rule set is kept; a finding without threads uses its frames") {
    CHECK(signature_of("team-rule", {}, {}, "ledger-stuck").key == "ledger-stuck");
    auto a = signature_of("blocked-threads", {}, {py("serve", "/srv/app.py")});
    auto b = signature_of("blocked-threads", {}, {py("serve", "/other/app.py")});
    CHECK(a.key == b.key);
    CHECK(a.text == "blocked-threads | serve (app.py)");
}

TEST_CASE("signature: the machine's string function variant and Python's qualified names do not split a bucket") {
    CHECK(normalize_function("__strlen_evex") == "strlen");
    CHECK(normalize_function("__memmove_avx_unaligned_erms") == "memmove");
    SigThread evex{{native("__strlen_evex", "libc.so.6"), native("string_at", "_ctypes.cpython-311-x86_64-linux-gnu.so")},
                   {py("crash_segv", "/srv/crash.py"), py("Thread.run", "/usr/lib/python3.11/threading.py")}};
    SigThread sse{{native("__strlen_sse2", "libc.so.6"), native("string_at", "_ctypes.cpython-310-x86_64-linux-gnu.so")},
                  {py("crash_segv", "/srv/crash.py"), py("run", "/usr/lib/python3.10/threading.py")}};
    CHECK(signature_of("crash", {evex}, {}).key == signature_of("crash", {sse}, {}).key);
    CHECK(signature_of("crash", {evex}, {}).text == "crash | libc.so!strlen < _ctypes.so!string_at < crash_segv (crash.py) < run (threading.py)");
}
