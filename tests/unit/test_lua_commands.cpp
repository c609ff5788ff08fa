// Commands registered in Lua: registration, help, matching, and the gdb-named stdlib commands.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_lua_fakes.hpp"

using namespace snag;
using snag::testing::make_session;
using snag::testing::run;
using snag::testing::contains;

TEST_CASE("commands: the stdlib registers gdb's names, and help explains them") {
    auto s = make_session();
    for (const char* name : {"info threads", "thread", "thread apply", "bt", "frame", "up", "down",
                             "info registers", "info sharedlibrary", "info symbol", "ptype", "help"})
        CHECK_MESSAGE(s->has_command(name), name);
    CHECK(s->has_command("backtrace"));
    CHECK(!s->has_command("nonsense"));
    std::string help = run(*s, "help");
    CHECK(contains(help, "bt -- Print the selected thread's native stack"));
    CHECK(contains(help, "info threads -- Display the target's threads"));
    std::string bt_help = run(*s, "help bt");
    CHECK(contains(bt_help, "Usage: bt [full] [-no-args] [N|-N]"));
    CHECK(contains(bt_help, "Aliases: backtrace, where"));
    CHECK(run(*s, "help nonsense") == "ERROR: Undefined command: \"nonsense\".  Try \"help\".");
    CHECK(run(*s, "nonsense 1") == "ERROR: Undefined command: \"nonsense\".  Try \"help\".");
}

TEST_CASE("commands: matching multi-word names, aliases and unique prefixes") {
    auto s = make_session();
    using P = std::pair<std::string, std::string>;
    CHECK(*s->match_command("info threads") == P{"info threads", ""});
    CHECK(*s->match_command("info reg rip") == P{"info registers", "rip"});
    CHECK(*s->match_command("i r rip") == P{"info registers", "rip"});
    CHECK(*s->match_command("thread apply all bt full") == P{"thread apply", "all bt full"});
    CHECK(*s->match_command("thread 2") == P{"thread", "2"});
    CHECK(*s->match_command("where 3") == P{"bt", "3"});
    CHECK(!s->match_command("info s"));  // sharedlibrary or symbol: ambiguous
    auto infos = s->commands();
    auto bt = std::find_if(infos.begin(), infos.end(), [](auto& c) { return c.name == "bt"; });
    REQUIRE(bt != infos.end());
    CHECK(bt->args == "[full] [-no-args] [N|-N]");
    CHECK(contains(bt->source, "stdlib/commands/stack.lua"));
}

TEST_CASE("commands: info threads, thread, thread apply") {
    auto s = make_session();
    std::string threads = run(*s, "info threads");
    CHECK(contains(threads, "* 1    Thread 0x7f0000001000 (LWP 100) \"main\""));
    CHECK(contains(threads, "  2    LWP 101 \"worker\""));
    CHECK(contains(threads, "0x0000000000401105 in worker_loop () at /src/fake.c:40"));
    CHECK(run(*s, "thread") == "[Current thread is 1 (Thread 0x7f0000001000 (LWP 100))]\n");
    std::string switched = run(*s, "thread 2");
    CHECK(contains(switched, "[Switching to thread 2 (LWP 101)]"));
    CHECK(contains(switched, "#0  0x0000000000401105 in worker_loop () at /src/fake.c:40"));
    CHECK(s->selected_thread() == 101);
    CHECK(run(*s, "thread 9") == "ERROR: Invalid thread ID: 9");
    std::string all = run(*s, "thread apply all bt 1");
    CHECK(all.find("Thread 2 (LWP 101") < all.find("Thread 1 (Thread 0x7f0000001000 (LWP 100)"));  // gdb's order
    CHECK(contains(all, "#0  0x0000000000401005 in main () at /src/fake.c:10"));
    CHECK(s->selected_thread() == 101);  // selection restored
    std::string range = run(*s, "thread apply 1-2 bt 1");
    CHECK(contains(range, "Thread 1 ("));
    CHECK(contains(range, "Thread 2 ("));
    CHECK(run(*s, "thread apply 1") == "ERROR: Please specify a command following the thread ID list");
    CHECK(run(*s, "thread apply bt") == "ERROR: Please specify a thread ID list");
    std::string one = run(*s, "thread apply 1 info registers rip");
    CHECK(contains(one, "rip            0x401005            0x401005 <main+5>"));
}

TEST_CASE("commands: bt, frame, up, down") {
    auto s = make_session();
    // gdb's `backtrace past-main off`: bt ends at main, so of the main thread's two frames (main,
    // then start_thread) it prints one; the worker thread, without main, prints both.
    std::string bt = run(*s, "bt");
    CHECK(bt == "#0  0x0000000000401005 in main () at /src/fake.c:10\n");
    CHECK(run(*s, "bt 1") == "#0  0x0000000000401005 in main () at /src/fake.c:10\n");
    CHECK(contains(run(*s, "bt -1"), "#0  0x0000000000401005 in main"));
    // The fake module has no DWARF: gdb's words for a frame without symbol tables.
    CHECK(run(*s, "bt full") == "#0  0x0000000000401005 in main () at /src/fake.c:10\n"
                                "No symbol table info available.\n");
    std::string worker = run(*s, "thread apply 2 bt");
    CHECK(contains(worker, "#0  0x0000000000401105 in "));
    CHECK(contains(worker, "#1  0x0000000000402010 in start_thread"));
    CHECK(contains(run(*s, "thread apply 2 bt 1"), "(More stack frames follow...)"));
    run(*s, "thread 1");
    CHECK(contains(run(*s, "up"), "#1  0x0000000000402010 in start_thread"));
    CHECK(s->selected_frame() == 1);
    CHECK(run(*s, "up") == "ERROR: Initial frame selected; you cannot go up.");
    CHECK(contains(run(*s, "down"), "#0  0x0000000000401005 in main"));
    CHECK(run(*s, "down") == "ERROR: Bottom (innermost) frame selected; you cannot go down.");
    CHECK(contains(run(*s, "frame 1"), "#1 "));
    CHECK(run(*s, "frame 7") == "ERROR: No frame at level 7.");
}

TEST_CASE("commands: info registers, info symbol, info sharedlibrary, ptype") {
    auto s = make_session();
    std::string regs = run(*s, "info registers");
    CHECK(contains(regs, "rax            0xfffffffffffffe00  -512\n"));
    CHECK(contains(regs, "eflags         0x246               [ PF ZF IF ]\n"));
    CHECK(contains(regs, "rsp            0x7000              0x7000\n"));
    REQUIRE(s->select_frame(1));
    std::string outer = run(*s, "info registers rax rbx");
    CHECK(outer == "rax            0xfffffffffffffe00  -512\nrbx            0x77                119\n");
    CHECK(run(*s, "info registers xyz") == "ERROR: Invalid register `xyz'");
    CHECK(run(*s, "info symbol 0x401005") == "main + 5 in /usr/bin/fake\n");
    CHECK(run(*s, "info symbol main") == "main in /usr/bin/fake\n");
    CHECK(run(*s, "info symbol 0x10") == "No symbol matches 0x10.\n");
    std::string libs = run(*s, "info sharedlibrary");
    CHECK(contains(libs, "abcdef0123"));
    CHECK(contains(libs, " ok "));
    CHECK(contains(run(*s, "ptype struct point"), "type = struct point {"));
    CHECK(run(*s, "ptype struct nothing") == "ERROR: No symbol \"struct nothing\" in current context.");
}

TEST_CASE("commands: Lua captures command output with cmd(), and the line runner is used") {
    auto s = make_session();
    std::ostringstream out;
    auto r = s->eval_lua("select(2, cmd('info threads'):gsub('LWP', ''))", out);
    REQUIRE(r);
    CHECK(*r == "2");
    std::vector<std::string> seen;
    s->set_line_runner([&](std::string_view line, std::ostream& o) -> Expected<void> {
        seen.emplace_back(line);
        o << "ran";
        return {};
    });
    r = s->eval_lua("cmd('print 1 + 1')", out);
    REQUIRE(r);
    CHECK(*r == "ran");
    CHECK(seen == std::vector<std::string>{"print 1 + 1"});
}

TEST_CASE("commands: user command files, live-only commands on a core") {
    auto dir = std::filesystem::temp_directory_path() / "snag-lua-cmds";
    std::filesystem::create_directories(dir);
    std::string file = (dir / "mine.lua").string();
    std::ofstream(file) << "command{ name = 'count-threads', aliases = {'ct'}, args = '[PREFIX]',\n"
                           "  help = 'Count threads.',\n"
                           "  run = function(ctx, args)\n"
                           "    ctx:printf('%s%d\\n', args[1] or '', #target:threads()) end }\n"
                           "command{ name = 'poke', live_only = true, help = 'Live only.',\n"
                           "  run = function(ctx) ctx:print('poked') end }\n";
    auto options = snag::testing::test_options();
    options.load_files = {file};
    auto s = make_session(TargetKind::Core, options);
    CHECK(run(*s, "count-threads n=") == "n=2\n");
    CHECK(run(*s, "ct") == "2\n");
    CHECK(run(*s, "poke") == "ERROR: poke works on live processes only; this target is a core file.");
    CHECK(contains(run(*s, "help"), "poke -- Live only. (live processes only)"));
    auto live = make_session(TargetKind::Process, options);
    CHECK(run(*live, "poke") == "poked\n");
    std::filesystem::remove_all(dir);
}

TEST_CASE("lua: scripts run with arg set") {
    auto dir = std::filesystem::temp_directory_path() / "snag-lua-script";
    std::filesystem::create_directories(dir);
    std::string file = (dir / "s.lua").string();
    std::ofstream(file) << "local a, b = ...\nprint(arg[0]:match('s.lua$'), arg[1], b, #target:threads())\n";
    auto s = make_session();
    std::ostringstream out;
    REQUIRE(s->run_lua_file(file, {"x", "y"}, out));
    CHECK(out.str() == "s.lua\tx\ty\t2\n");
    std::filesystem::remove_all(dir);
}

TEST_CASE("commands: the Debugger Extension example loads and runs") {
    auto options = snag::testing::test_options();
    options.load_files = {std::string(SNAG_SOURCE_DIR) + "/examples/commands/busiest.lua"};
    auto s = make_session(TargetKind::Core, options);
    std::string top = run(*s, "busiest 1");
    CHECK(contains(top, "Innermost frame"));
    CHECK(contains(top, "main"));
    CHECK(!contains(top, "worker"));  // only one thread asked for
    CHECK(run(*s, "top-threads 0") == "ERROR: N must be a positive number, not 0");
    std::string grep = run(*s, "stack-grep start_th");
    CHECK(contains(grep, "Thread 1 ("));
    CHECK(contains(grep, "Thread 2 ("));
    CHECK(contains(grep, "#1  0x0000000000402010 in start_thread () from /usr/bin/fake"));
    CHECK(run(*s, "stack-grep nothing_here") == "No thread has a frame matching nothing_here.\n");
}

TEST_CASE("commands: the stdlib compiled into the binary is the default") {
    auto options = snag::testing::test_options();
    options.stdlib_dir.clear();
    if (std::getenv("SNAG_STDLIB")) return;  // a developer override is in effect
    auto s = make_session(TargetKind::Core, options);
    CHECK(s->has_command("info threads"));
    CHECK(contains(run(*s, "help bt"), "Defined in stdlib/commands/stack.lua"));
    CHECK(run(*s, "bt 1") == "#0  0x0000000000401005 in main () at /src/fake.c:10\n");
    std::ostringstream out;
    CHECK(*s->eval_lua("require('snag.format').hex(16)", out) == "0x10");
}
