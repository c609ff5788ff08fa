// /proc parsers: the awkward inputs (comm with spaces and parens, paths with spaces, deleted files).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "target/proc_fs.hpp"

using namespace snag;

namespace {
const char* kStatTail = " 1 2 3 4 5 6 7 8 9 250 75 0 0 20 0 1 0 100 0 0";
}

TEST_CASE("proc stat: plain comm") {
    auto stat = proc::parse_stat(std::string("4242 (python3) S 17") + kStatTail);
    REQUIRE(stat);
    CHECK(stat->tid == 4242);
    CHECK(stat->comm == "python3");
    CHECK(stat->state == 'S');
    CHECK(stat->ppid == 17);
    CHECK(stat->utime_ticks == 250);
    CHECK(stat->stime_ticks == 75);
}

TEST_CASE("proc stat: comm with spaces, parens and a fake state") {
    // The comm ") R 99 (" would fool a parser that stops at the first ')'.
    auto stat = proc::parse_stat(std::string("7 (a) R 99 ( b)) t 3") + kStatTail);
    REQUIRE(stat);
    CHECK(stat->tid == 7);
    CHECK(stat->comm == "a) R 99 ( b)");
    CHECK(stat->state == 't');
    CHECK(stat->ppid == 3);
    CHECK(stat->utime_ticks == 250);
}

TEST_CASE("proc stat: empty comm and malformed lines") {
    auto stat = proc::parse_stat(std::string("8 () Z 1") + kStatTail);
    REQUIRE(stat);
    CHECK(stat->comm.empty());
    CHECK(stat->state == 'Z');
    CHECK_FALSE(proc::parse_stat(""));
    CHECK_FALSE(proc::parse_stat("12 (x S 1 2"));
    CHECK_FALSE(proc::parse_stat("12 (x) S 1 2 3"));  // truncated before utime
    CHECK_FALSE(proc::parse_stat("x12 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13"));
}

TEST_CASE("proc stat: this process") {
    auto stat = proc::read_task_stat(::getpid(), ::getpid());
    REQUIRE(stat);
    CHECK(stat->tid == ::getpid());
    CHECK(stat->state == 'R');
    CHECK(stat->ppid == ::getppid());
}

TEST_CASE("proc status: tracer, uids, tgid") {
    const char* text =
        "Name:\tmy prog\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t100\nNgid:\t0\nPid:\t101\n"
        "PPid:\t1\nTracerPid:\t999\nUid:\t1000\t1001\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n";
    auto status = proc::parse_status(text);
    REQUIRE(status);
    CHECK(status->name == "my prog");
    CHECK(status->state == 'S');
    CHECK(status->tgid == 100);
    CHECK(status->ppid == 1);
    CHECK(status->tracer_pid == 999);
    CHECK(status->real_uid == 1000);
    CHECK(status->effective_uid == 1001);
    CHECK(status->namespace_pid == 0);
    auto contained = proc::parse_status("Name:\tpython3\nNSpid:\t4321\t17\t1\nSeccomp:\t2\n");
    REQUIRE(contained);
    CHECK(contained->namespace_pid == 1);  // the innermost namespace's id
    CHECK(contained->seccomp == 2);
    CHECK_FALSE(proc::parse_status("garbage without fields"));
    auto self = proc::read_status(::getpid());
    REQUIRE(self);
    CHECK(self->tgid == ::getpid());
    CHECK(self->real_uid == static_cast<int>(::getuid()));
}

TEST_CASE("proc maps: anonymous, pseudo, spaces and deleted paths") {
    auto anon = proc::parse_maps_line("7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ");
    REQUIRE(anon);
    CHECK(anon->start == 0x7f0000000000ull);
    CHECK(anon->end == 0x7f0000021000ull);
    CHECK(anon->perms == "rw-p");
    CHECK(anon->path.empty());

    auto stack = proc::parse_maps_line("7ffc1000-7ffc2000 rw-p 00000000 00:00 0                          [stack]");
    REQUIRE(stack);
    CHECK(stack->path == "[stack]");

    auto spaced = proc::parse_maps_line(
        "55d0c0000000-55d0c0001000 r-xp 00002000 fd:01 1234567                    /opt/my app/lib x.so");
    REQUIRE(spaced);
    CHECK(spaced->file_offset == 0x2000);
    CHECK(spaced->perms == "r-xp");
    CHECK(spaced->path == "/opt/my app/lib x.so");

    auto deleted = proc::parse_maps_line("400000-401000 r-xp 00000000 08:02 42 /tmp/old binary (deleted)");
    REQUIRE(deleted);
    CHECK(deleted->path == "/tmp/old binary (deleted)");

    CHECK_FALSE(proc::parse_maps_line(""));
    CHECK_FALSE(proc::parse_maps_line("zzzz-1000 r-xp 0 0 0"));
    CHECK_FALSE(proc::parse_maps_line("1000-2000 rx 00000000 00:00 0"));
}

TEST_CASE("proc maps: whole file, and this process's own maps") {
    auto mappings = proc::parse_maps("1000-2000 r--p 00000000 00:00 0 /a\n\nbad line\n3000-4000 rw-p 00000000 00:00 0\n");
    REQUIRE(mappings.size() == 2);
    CHECK(mappings[0].path == "/a");
    CHECK(mappings[1].start == 0x3000);

    auto text = proc::read_file("/proc/self/maps");
    REQUIRE(text);
    auto self = proc::parse_maps(*text);
    bool found_code = false;
    auto here = reinterpret_cast<uint64_t>(&proc::parse_maps);
    for (const auto& mapping : self)
        if (mapping.start <= here && here < mapping.end) found_code = mapping.perms[2] == 'x';
    CHECK(found_code);
}

TEST_CASE("proc auxv and cmdline") {
    uint64_t raw[] = {6, 4096, 25, 0x7ffd0000, 0, 0, 99, 99};
    auto auxv = proc::parse_auxv(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
    REQUIRE(auxv.size() == 3);  // stops after AT_NULL
    CHECK(auxv[0].type == 6);
    CHECK(auxv[0].value == 4096);
    CHECK(auxv[2].type == 0);

    const char args[] = "python3\0-c\0print(1)\0";
    CHECK(proc::join_cmdline(std::string_view(args, sizeof args - 1)) == "python3 -c print(1)");
    CHECK(proc::join_cmdline("") == "");
}

TEST_CASE("proc: tasks of this process and unknown pids") {
    auto tids = proc::list_tasks(::getpid());
    REQUIRE_FALSE(tids.empty());
    CHECK(tids.front() == ::getpid());
    CHECK(proc::list_tasks(-5).empty());
    CHECK_FALSE(proc::read_status(-5));
    CHECK(proc::ticks_to_seconds(static_cast<uint64_t>(::sysconf(_SC_CLK_TCK))) == doctest::Approx(1.0));
}
