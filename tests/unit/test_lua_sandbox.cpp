// The sandbox: budgets, forbidden functions, file access, interrupts, tracebacks — each failure is
// a clear error and the session keeps working.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_lua_fakes.hpp"

using namespace snag;
using snag::testing::make_session;
using snag::testing::eval;
using snag::testing::contains;

namespace {
std::string temp_dir() {
    auto dir = std::filesystem::temp_directory_path() / ("snag-lua-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
}
}  // namespace

TEST_CASE("sandbox: an endless loop stops at the instruction budget, naming the line") {
    auto s = make_session();
    std::string r = eval(*s, "local n = 0\nwhile true do n = n + 1 end");
    CHECK(contains(r, "ERROR: lua:2: instruction budget of 50000000 exhausted"));
    CHECK(eval(*s, "1 + 1") == "2");
}

TEST_CASE("sandbox: a memory bomb stops at the memory budget") {
    auto s = make_session();
    std::string r = eval(*s, "local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end");
    CHECK(contains(r, "ERROR: lua:2: memory budget of 64 MB exhausted"));
    std::string huge = eval(*s, "string.rep('x', 1 << 30)");
    CHECK(contains(huge, "memory budget of 64 MB exhausted"));
    CHECK(eval(*s, "#string.rep('y', 1000)") == "1000");
}

TEST_CASE("sandbox: no processes, no debug library, no binary chunks") {
    auto s = make_session();
    CHECK(contains(eval(*s, "os.execute('true')"), "attempt to call a nil value (field 'execute')"));
    CHECK(eval(*s, "io.popen") == "nil");
    CHECK(eval(*s, "debug") == "nil");
    CHECK(eval(*s, "package.loadlib") == "nil");
    CHECK(contains(eval(*s, "load(string.dump(function() return 1 end))"), "attempt to load a binary chunk"));
    // Asking for binary mode explicitly does not help: the mode is forced to "t".
    CHECK(contains(eval(*s, "load(string.dump(function() return 1 end), 'x', 'b')"),
                   "attempt to load a binary chunk"));
    CHECK(eval(*s, "load('return ...', 'x', 'bt', {})(7)") == "7");
    CHECK(eval(*s, "load('return 40 + 2')()") == "42");
    CHECK(eval(*s, "1 + 1") == "2");
}

TEST_CASE("sandbox: files load only from known directories and are written only where allowed") {
    std::string dir = temp_dir();
    std::string allowed = dir + "/report.txt";
    auto options = snag::testing::test_options();
    options.writable_paths = {allowed};
    auto s = make_session(TargetKind::Core, options);
    CHECK(contains(eval(*s, "io.open('" + dir + "/other.txt', 'w')"), "writing " + dir + "/other.txt is not allowed"));
    CHECK(eval(*s, "local f = io.open('" + allowed + "', 'w'); f:write('ok'); f:close(); return 1") == "1");
    CHECK(eval(*s, "io.open('" + allowed + "'):read('a')") == "ok");
    CHECK(contains(eval(*s, "dofile('/etc/hostname')"), "outside the stdlib, command and script directories"));
    CHECK(contains(eval(*s, "loadfile('/etc/hostname')"), "outside the stdlib"));
    CHECK(eval(*s, "require('snag.format').hex(255)") == "0xff");
    std::filesystem::remove_all(dir);
}

TEST_CASE("sandbox: Ctrl-C interrupts the running chunk, not the session") {
    auto s = make_session();
    Session::request_interrupt();
    CHECK(contains(eval(*s, "while true do end"), "interrupted"));
    CHECK(!Session::interrupt_requested());
    CHECK(eval(*s, "'still here'") == "still here");
}

TEST_CASE("sandbox: errors carry a traceback with the user's file and line") {
    std::string dir = temp_dir();
    std::string file = dir + "/broken.lua";
    std::ofstream(file) << "command{ name = 'broken', help = 'fails',\n"
                           "  run = function(ctx, args)\n"
                           "    local t = nil\n"
                           "    return t.field\n"
                           "  end }\n";
    auto s = make_session();
    REQUIRE(s->load_commands(file));
    auto r = s->run_command("broken", "");
    REQUIRE(!r);
    CHECK(contains(r.error().message, "broken.lua:4: attempt to index a nil value"));
    CHECK(contains(r.error().message, "stack traceback:"));
    CHECK(contains(r.error().message, "broken.lua:4: in"));
    // A user-facing failure (ctx:fail) is one line, without a traceback.
    auto bad = s->run_command("frame", "99");
    REQUIRE(!bad);
    CHECK(bad.error().message == "No frame at level 99.");
    std::ofstream(dir + "/syntax.lua") << "command{ name = 'x' \n run = 1 }\n";
    auto syntax = s->load_commands(dir + "/syntax.lua");
    REQUIRE(!syntax);
    CHECK(contains(syntax.error().message, "syntax.lua:2:"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("lua: chunk completeness for the REPL, like lua.c") {
    auto s = make_session();
    CHECK(s->lua_chunk_status("1 + 1") == LuaChunkStatus::Complete);
    CHECK(s->lua_chunk_status("x = 1") == LuaChunkStatus::Complete);
    CHECK(s->lua_chunk_status("for i = 1, 3 do") == LuaChunkStatus::Incomplete);
    CHECK(s->lua_chunk_status("function f()\n return 1") == LuaChunkStatus::Incomplete);
    CHECK(s->lua_chunk_status("x = )") == LuaChunkStatus::Error);
}

TEST_CASE("lua: print output goes to the given stream; results come back formatted") {
    auto s = make_session();
    std::ostringstream out;
    auto r = s->eval_lua("print('a', 1); io.write('b'); return 2, nil, 'c'", out);
    REQUIRE(r);
    CHECK(out.str() == "a\t1\nb");
    CHECK(*r == "2\tnil\tc");
}
