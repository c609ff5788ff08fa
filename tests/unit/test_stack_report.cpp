// Stack reports in text and in the JSON "stacks" shape of architecture.md.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "memory_only_target.hpp"
#include "report/native_stacks.hpp"
#include "report/stack_report.hpp"

namespace {

using snag::FrameReport;
using snag::StackReport;
using snag::ThreadReport;

StackReport sample_report() {
    StackReport report;
    report.target = {{"kind", "core"}, {"pid", "4242"}, {"core", "/tmp/core.4242"}, {"fault_address", "0x10"}};
    report.warnings = {"libfoo.so: build-id differs from the core"};

    ThreadReport main;
    main.tid = 4242;
    main.name = "main";
    main.state = 'S';
    main.cpu_user = 1.2;
    main.cpu_system = 0.01;
    FrameReport inlined;
    inlined.pc = 0x7f0000001234;
    inlined.function = "futex_wait";
    inlined.module = "/usr/lib/x86_64-linux-gnu/libc.so.6";
    inlined.file = "futex-internal.h";
    inlined.line = 146;
    inlined.inlined = true;
    FrameReport outer = inlined;
    outer.function = "__lll_lock_wait";
    outer.offset = 0x2b;
    outer.file = "lowlevellock.c";
    outer.line = 49;
    outer.inlined = false;
    FrameReport unknown;
    unknown.pc = 0x1000;
    unknown.note = "(found by frame pointer, no CFI)";
    main.frames = {inlined, outer, unknown};

    ThreadReport py;
    py.tid = 4243;
    py.name = "worker";
    py.state = 'R';
    py.python = snag::PythonThreadReport{140001, true, false, false, "gil"};
    FrameReport pyframe;
    pyframe.kind = FrameReport::Kind::Python;
    pyframe.function = "spin";
    pyframe.file = "x.py";
    pyframe.line = 28;
    pyframe.locals = {{"spike", "True"}};
    py.frames = {pyframe};
    py.error = "stack walk stopped: unreadable memory";

    report.threads = {main, py};
    return report;
}

}  // namespace

TEST_CASE("stacks JSON has the architecture's shape") {
    std::ostringstream out;
    snag::print_stacks_json(out, sample_report());
    auto doc = nlohmann::json::parse(out.str());

    CHECK(doc["target"]["kind"] == "core");
    CHECK(doc["target"]["pid"] == 4242);  // integers become numbers
    CHECK(doc["target"]["fault_address"] == "0x10");
    CHECK(doc["warnings"].size() == 1);
    REQUIRE(doc["threads"].size() == 2);

    const auto& t0 = doc["threads"][0];
    CHECK(t0["tid"] == 4242);
    CHECK(t0["name"] == "main");
    CHECK(t0["state"] == "S");
    CHECK(t0["cpu"]["user"] == doctest::Approx(1.2));
    CHECK_FALSE(t0.contains("python"));
    REQUIRE(t0["frames"].size() == 3);
    const auto& f0 = t0["frames"][0];
    CHECK(f0["kind"] == "native");
    CHECK(f0["function"] == "futex_wait");
    CHECK(f0["file"] == "futex-internal.h");
    CHECK(f0["line"] == 146);
    CHECK(f0["module"] == "/usr/lib/x86_64-linux-gnu/libc.so.6");
    CHECK(f0["pc"] == 0x7f0000001234);
    CHECK(f0["inlined"] == true);
    CHECK(t0["frames"][1]["offset"] == 0x2b);
    CHECK(t0["frames"][2]["function"].is_null());
    CHECK(t0["frames"][2]["line"].is_null());
    CHECK(t0["frames"][2]["note"] == "(found by frame pointer, no CFI)");

    const auto& t1 = doc["threads"][1];
    CHECK(t1["python"]["gil"] == true);
    CHECK(t1["python"]["thread_id"] == 140001);
    CHECK(t1["error"] == "stack walk stopped: unreadable memory");
    const auto& pf = t1["frames"][0];
    CHECK(pf["kind"] == "python");
    CHECK(pf["function"] == "spin");
    CHECK(pf["line"] == 28);
    CHECK(pf["locals"]["spike"] == "True");
    CHECK_FALSE(pf.contains("pc"));
}

TEST_CASE("stacks text looks like gdb and eu-stack") {
    std::ostringstream out;
    snag::print_stacks_text(out, sample_report());
    std::string text = out.str();
    CHECK(text.find("Thread 4242 \"main\" (state S, cpu 1.20s user 0.01s sys)\n") == 0);
    CHECK(text.find("#0  0x00007f0000001234  futex_wait (libc.so.6) futex-internal.h:146 [inlined]\n") !=
          std::string::npos);
    CHECK(text.find("#1  0x00007f0000001234  __lll_lock_wait+0x2b (libc.so.6) lowlevellock.c:49\n") !=
          std::string::npos);
    CHECK(text.find("#2  0x0000000000001000  ??  (found by frame pointer, no CFI)\n") != std::string::npos);
    CHECK(text.find("Thread 4243 \"worker\" (state R) [gil]\n") != std::string::npos);
    CHECK(text.find("#0  [py] spin (x.py:28)\n") != std::string::npos);
    CHECK(text.find("        spike = True\n") != std::string::npos);
    CHECK(text.find("    (stack walk stopped: unreadable memory)\n") != std::string::npos);
}

TEST_CASE("stacks JSON: bytes that are not UTF-8 (a damaged core's names) become U+FFFD") {
    StackReport report = sample_report();
    report.threads[0].name = "w\xff\xfeorker";
    report.threads[0].frames[0].function = "spin\xc3";  // a cut multi-byte sequence
    std::ostringstream out;
    REQUIRE_NOTHROW(snag::print_stacks_json(out, report));
    auto doc = nlohmann::json::parse(out.str());
    CHECK(doc["threads"][0]["name"] == "w\xef\xbf\xbd\xef\xbf\xbdorker");
    CHECK(doc["threads"][0]["frames"][0]["function"] == "spin\xef\xbf\xbd");
}

TEST_CASE("frame arguments with entry values print as gdb's `print entry-values default`") {
    StackReport report = sample_report();
    report.threads[0].frames[1].args = std::vector<snag::FrameArgument>{
        {"futex", "0x7f00", std::string("0x7f00")},          // still what the caller passed
        {"val", "6", std::string("5")},                      // changed since the call
        {"private", "<optimized out>", std::string("0")},    // only the passed value is known
        {"n", "3", std::nullopt}};
    std::ostringstream text;
    snag::print_stacks_text(text, report);
    CHECK(text.str().find("__lll_lock_wait+0x2b (futex=futex@entry=0x7f00, val=6, val@entry=5, "
                          "private=<optimized out>, private@entry=0, n=3) (libc.so.6)") != std::string::npos);
    std::ostringstream json;
    snag::print_stacks_json(json, report);
    auto args = nlohmann::json::parse(json.str())["threads"][0]["frames"][1]["args"];
    CHECK(args[1]["value"] == "6");
    CHECK(args[1]["entry_value"] == "5");
    CHECK(!args[3].contains("entry_value"));
}

TEST_CASE("stack warnings: a walk stopped by its stack says where; the depth limit does not warn") {
    struct NoMemory : snag::test::MemoryOnlyTarget {
        size_t read(uint64_t, void*, size_t) override { return 0; }
    } target;  // no thread facts: the frames give the address
    std::vector<snag::NativeStack> stacks(4);
    stacks[0].tid = 1;
    stacks[0].frames = {{.pc = 0x401000, .sp = 0x7ffe1000}};
    stacks[1].tid = 2;
    stacks[1].frames = {{.pc = 0x401000, .sp = 0x7ffe2000}, {.pc = 0x402000, .sp = 0x7ffe2040}};
    stacks[1].error = "stack walk stopped: the stack pointer went backwards (corrupt stack?)";
    stacks[2].tid = 3;
    stacks[2].error = "stack walk stopped at the depth limit of 2 frames";
    stacks[2].truncated = stacks[2].depth_limited = true;
    stacks[3].tid = 4;
    stacks[3].error = "no registers recorded for this thread";
    auto warnings = snag::incomplete_stack_warnings(target, stacks);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] ==
          "thread 2: stack incomplete at 0x7ffe2040: stack walk stopped: the stack pointer went backwards (corrupt stack?)");
    CHECK(warnings[1] == "thread 4: stack incomplete: no registers recorded for this thread");
}
