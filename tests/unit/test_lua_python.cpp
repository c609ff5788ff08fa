// The py-* commands and target.python on a live CPython child (skipped when no python3 exists).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lua/session.hpp"
#include "test_process_child.hpp"

using namespace snag;

namespace {

const char* kScript = R"(import os, threading, time
def worker(n):
    local_n = n + 7
    ready.release()
    time.sleep(1000)
ready = threading.Semaphore(0)
ts = [threading.Thread(target=worker, args=(i,), name='w%d' % i) for i in range(2)]
for t in ts: t.start()
ready.acquire(); ready.acquire()
os.write(int(os.environ['READY_FD']), b'R')
time.sleep(1000)
)";

std::string python_binary() {
    for (const char* p : {"/usr/bin/python3.11", "/usr/bin/python3"})
        if (::access(p, X_OK) == 0) return p;
    return "";
}

std::string run(Session& s, const std::string& line) {
    std::ostringstream out;
    auto r = s.run_line(line, out);
    return r ? out.str() : out.str() + "ERROR: " + r.error().message;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("lua python: py-bt, py-locals, info py-threads on a live interpreter") {
    std::string python = python_binary();
    if (python.empty()) {
        MESSAGE("no python3 in /usr/bin: skipped");
        return;
    }
    auto dir = std::filesystem::temp_directory_path() / ("snag-lua-py-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string script = (dir / "prog.py").string();
    std::ofstream(script) << kScript;
    auto child = snag::test::fork_child([&](int ready_fd) {
        std::string env = "READY_FD=" + std::to_string(ready_fd);
        ::putenv(env.data());
        ::execl(python.c_str(), python.c_str(), script.c_str(), static_cast<char*>(nullptr));
    });
    REQUIRE(child.pid() > 0);
    auto target = attach_process(child.pid(), {});
    REQUIRE(target);
    SessionOptions options;
    options.user_commands = false;
    auto opened = Session::open(std::move(*target), options);
    REQUIRE(opened);
    Session& s = **opened;

    std::ostringstream out;
    CHECK(*s.eval_lua("target.python ~= nil", out) == "true");
    std::string threads = run(s, "info py-threads");
    CHECK(contains(threads, "MainThread"));
    CHECK(contains(threads, "w0"));
    CHECK(contains(threads, "worker (prog.py:5)"));

    std::string all = run(s, "thread apply all py-bt");
    CHECK(contains(all, "Traceback (most recent call first):"));
    CHECK(contains(all, "prog.py\", line 5, in worker"));
    CHECK(contains(all, "    time.sleep(1000)"));
    CHECK(contains(all, "in <module>"));  // line 10 or 11: the main thread may not sleep yet

    REQUIRE(s.eval_lua("for _, t in ipairs(target.python:threads()) do "
                       "if t.name == 'w1' then snag.select_thread(t.tid) end end", out));
    CHECK(run(s, "py-locals") == "Locals for worker\nn = 1\nlocal_n = 8\n");
    CHECK(run(s, "py-print local_n") == "local 'local_n' = 8\n");
    CHECK(run(s, "py-print __name__") == "global '__name__' = '__main__'\n");
    CHECK(contains(run(s, "py-print len"), "builtin 'len' = <built-in method len of module object at remote 0x"));
    CHECK(contains(run(s, "py-list"), "  >5        time.sleep(1000)"));
    // As gdb's: the selection starts in the built-in call (time.sleep); py-up selects its caller.
    CHECK(run(s, "py-down") == "ERROR: Unable to find a newer python frame");
    // Numbered as gdb numbers them: by the native frame of the eval loop, never 0 (the syscall's).
    std::string up = run(s, "py-up");
    CHECK(contains(up, " Frame 0x"));
    CHECK(contains(up, "in worker (n=1, local_n=8)"));
    CHECK(!up.starts_with("#0 "));
    std::string older = run(s, "py-up");
    CHECK(contains(older, " Frame 0x"));
    CHECK(!contains(older, "in worker (n=1"));
    CHECK(contains(run(s, "py-down"), "in worker (n=1, local_n=8)"));
    CHECK(contains(run(s, "py-down"), "<built-in method sleep of module object at remote 0x"));
    CHECK(run(s, "py-down") == "ERROR: Unable to find a newer python frame");
    CHECK(contains(run(s, "py-modules threading"), "threading.py"));
    s.target().detach();
    std::filesystem::remove_all(dir);
}
