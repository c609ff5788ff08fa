// Lua bindings over a synthetic target: memory, threads, stacks, modules, symbols, types, handles.
#include <doctest/doctest.h>

#include <sstream>

#include "target/syscalls.hpp"
#include "test_lua_fakes.hpp"

using namespace snag;
using snag::testing::make_session;
using snag::testing::eval;

TEST_CASE("lua: target facts and memory reads of every width") {
    auto s = make_session();
    CHECK(eval(*s, "target.kind") == "core");
    CHECK(eval(*s, "target.pid") == "4242");
    CHECK(eval(*s, "target.executable") == "/usr/bin/fake");
    CHECK(eval(*s, "target:u32(0x1000)") == std::to_string(0xdeadbeefu));
    CHECK(eval(*s, "target:u8(0x1004)") == "255");
    CHECK(eval(*s, "target:i8(0x1004)") == "-1");
    CHECK(eval(*s, "target:u16(0x1000)") == std::to_string(0xbeef));
    CHECK(eval(*s, "target:i32(0x1044)") == "-4");
    CHECK(eval(*s, "target:cstr(0x1010)") == "hello");
    CHECK(eval(*s, "target:read(0x1010, 3)") == "hel");
    CHECK(eval(*s, "#target:read(0x10f0, 64)") == "16");  // short read: the readable prefix
    CHECK(eval(*s, "target:u64(0x9000)") == "nil\tCannot access memory at address 0x9000");
    CHECK(eval(*s, "target:search(0x1000, 0x100, 'world')") == std::to_string(0x1016));
    CHECK(eval(*s, "target:search(0x1000, 0x100, 'absent')") == "nil");
    CHECK(eval(*s, "target:signal().signo") == "11");
    CHECK(eval(*s, "#target:mappings()") == "2");
}

TEST_CASE("lua: threads, registers and native stacks") {
    auto s = make_session();
    CHECK(eval(*s, "#target:threads()") == "2");
    CHECK(eval(*s, "local t = target:threads()[2]; return t.tid, t.name, t.state, t.num") ==
          "101\tworker\tS\t2");
    CHECK(eval(*s, "target:thread(100):registers().rip") == std::to_string(0x401005));
    CHECK(eval(*s, "target:thread(100):registers().rax") == "-512");
    CHECK(eval(*s, "target:thread(999)") == "nil");
    CHECK(eval(*s, "local c = target:thread(100):syscall(); return c.number, c.name, c.kind, c.fd") ==
          "232\tepoll_wait\tpoll\t7");
    CHECK(eval(*s, "target:thread(101):syscall()") == "nil");  // not in a system call
    CHECK(eval(*s, "target:thread(100):syscall().returned") == "false");  // rax -ERESTARTSYS: waiting
}

TEST_CASE("syscalls: a call is still waited in only while rax holds an interrupted call's code") {
    for (long long rax : {-512LL, -513LL, -514LL, -516LL, -4LL /* EINTR */, -38LL /* ENOSYS: entry stop */})
        CHECK(snag::syscall_interrupted(rax));
    for (long long rax : {0LL, 3LL, 4096LL, -2LL /* ENOENT */, -11LL /* EAGAIN */, -110LL /* ETIMEDOUT */})
        CHECK_FALSE(snag::syscall_interrupted(rax));
}

TEST_CASE("lua: snag.syscall names x86_64 system calls and the libc functions that wait") {
    auto s = make_session();
    CHECK(eval(*s, "local c = snag.syscall(202); return c.name, c.kind, c.fd_first") == "futex\tsync\tfalse");
    CHECK(eval(*s, "local c = snag.syscall(43); return c.name, c.kind, c.fd_first") == "accept\taccept\ttrue");
    CHECK(eval(*s, "snag.syscall(61).kind, snag.syscall(230).kind, snag.syscall(130).kind") == "child\ttime\tsignal");
    CHECK(eval(*s, "snag.syscall(9).kind") == "other");  // mmap: named, no wait
    CHECK(eval(*s, "snag.syscall(100000)") == "nil");
    CHECK(eval(*s, "local c = snag.syscall('__GI___poll'); return c.name, c.number") == "poll\t7");
    CHECK(eval(*s, "snag.syscall('__libc_recv').kind, snag.syscall('__read_nocancel').name") == "io\tread");
    CHECK(eval(*s, "local c = snag.syscall('___pthread_cond_wait'); return c.kind, c.number") == "sync\t-1");
    CHECK(eval(*s, "snag.syscall('render_page')") == "nil");
    CHECK(eval(*s, "local st = target:thread(100):stack(); return #st, st[1]['function'], st[2]['function']") ==
          "2\tmain\tstart_thread");
    CHECK(eval(*s, "local f = target:thread(100):frame(0); return f.file, f.line, f.module") ==
          "/src/fake.c\t10\t/usr/bin/fake");
    CHECK(eval(*s, "target:thread(100):frame(1):registers().rbx") == std::to_string(0x77));
    CHECK(eval(*s, "#target:thread(101):stack(1)") == "1");
}

TEST_CASE("lua: modules and symbols in both directions") {
    auto s = make_session();
    CHECK(eval(*s, "local m = target:modules()[1]; return m.path, m.build_id, m.matches") ==
          "/usr/bin/fake\tabcdef0123\ttrue");
    CHECK(eval(*s, "local y = target:symbol(0x401005); return y.name, y.offset, y.file, y.line") ==
          "main\t5\t/src/fake.c\t10");
    CHECK(eval(*s, "target:address('worker_loop')") == std::to_string(0x401100));
    CHECK(eval(*s, "target:address('nope')") == "nil");
    CHECK(eval(*s, "target:module_at(0x401000).path") == "/usr/bin/fake");
    CHECK(eval(*s, "target:symbol(0x10)") == "nil");
}

TEST_CASE("lua: DWARF types and typed values") {
    auto s = make_session();
    CHECK(eval(*s, "local t = target:type('struct point'); return t.size, #t.members, t.members[3].name, t.members[3].offset") ==
          "16\t3\tnext\t8");
    CHECK(eval(*s, "target:type('point_t').kind") == "struct");
    CHECK(eval(*s, "target:type('unsigned long int').size") == "8");
    CHECK(eval(*s, "local v = target:value(0x1040, 'point_t'); return v.x, v.y") == "3\t-4");
    CHECK(eval(*s, "target:value(0x1040, 'struct point').next.x") == "30");  // p.field follows p
    CHECK(eval(*s, "target:value(0x1040, 'struct point').next:deref().x") == "30");
    CHECK(eval(*s, "target:value(0x1040, 'struct point').next:value()") == std::to_string(0x1050));
    CHECK(eval(*s, "target:value(0x1048, 'int *')[0]") == "30");  // the int* stored at 0x1048
    CHECK(eval(*s, "target:value(0x1048, 'int *'):deref()") == "30");
    CHECK(eval(*s, "target:value(0x1040, 'long')") == std::to_string((-4LL << 32) | 3));
    CHECK(eval(*s, "target:value(0x1048, 'char *'):value()") == std::to_string(0x1050));
    CHECK(eval(*s, "target:value(0x1040, 'struct point').nope").find("has no member named nope") !=
          std::string::npos);
    CHECK(eval(*s, "target:value(0x9000, 'struct point').x").find("Cannot access memory at address 0x9000") !=
          std::string::npos);
    CHECK(eval(*s, "target:type('struct nothing')") ==
          "nil\tno type named struct nothing in the target's debug info");
    CHECK(s->resolve_type("struct point *")->kind == ValueType::Kind::Pointer);
    CHECK(s->resolve_type("struct point *")->pointee == "struct point");
    CHECK(s->resolve_type("long")->size == 8);
    CHECK(!s->resolve_type("struct nothing"));
}

TEST_CASE("lua: handles go stale once the target resumes") {
    auto s = make_session();
    CHECK(eval(*s, "th = target:threads()[1]; fr = th:frame(0); v = target:value(0x1040, 'struct point'); return th.tid") ==
          "100");
    s->target_resumed();
    CHECK(eval(*s, "th:registers()").find("stale") != std::string::npos);
    CHECK(eval(*s, "fr:registers()").find("stale") != std::string::npos);
    CHECK(eval(*s, "v.x").find("stale") != std::string::npos);
    CHECK(eval(*s, "target:threads()[1]:registers().rip") == std::to_string(0x401005));
}

TEST_CASE("session: accessors for the command language") {
    auto s = make_session();
    CHECK(*s->register_value("rip") == 0x401005);
    CHECK(*s->register_value("pc") == 0x401005);
    CHECK(*s->register_value("eax") == 0xfffffe00u);
    CHECK(!s->register_value("nosuch"));
    REQUIRE(s->select_frame(1));
    CHECK(*s->register_value("rbx") == 0x77);
    CHECK(*s->register_value("rax") == static_cast<uint64_t>(-512));  // gdb's same-value rule
    CHECK(eval(*s, "target:thread(100):frame(1):registers().rax") == "-512");
    CHECK(!s->select_frame(5));
    CHECK(*s->read_memory(0x1010, 5) == "hello");
    CHECK(s->read_memory(0x10f0, 32).error().message == "Cannot access memory at address 0x1100");
    CHECK(*s->symbol_address("main") == 0x401000);
    CHECK(*s->symbolic_address(0x401004) == "main+4");
    CHECK(!s->symbolic_address(0x10));
    s->set_convenience("x", int64_t{7});
    CHECK(eval(*s, "snag.convenience('x')") == "7");
    CHECK(eval(*s, "snag.set_convenience('y', 'text')") == "");
    CHECK(std::get<std::string>(*s->convenience("y")) == "text");
    CHECK(!s->select_thread(5));
    REQUIRE(s->select_thread(101));
    CHECK(*s->register_value("rip") == 0x401105);
}
