// snag dump's writer: cores it writes read back through the core reader; plans follow gcore's rules.
#include <doctest/doctest.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <map>

#include "dump/core_writer.hpp"
#include "dump/dump_plan.hpp"
#include "target/core_notes.hpp"
#include "target/target.hpp"
#include "test_core_builder.hpp"

using namespace snag;
using snag::test::TempDir;

namespace {

constexpr uint64_t kPage = 4096;

// Target memory for the writer: page-aligned blocks; anything else is unreadable.
struct FakeMemory {
    std::map<uint64_t, std::string> blocks;
    uint64_t copy(const std::vector<dump::CopyRequest>& requests) const {
        uint64_t copied = 0;
        for (const auto& r : requests)
            for (const auto& [addr, bytes] : blocks)
                if (r.addr >= addr && r.addr + r.len <= addr + bytes.size()) {
                    std::memcpy(r.dest, bytes.data() + (r.addr - addr), r.len);
                    copied += r.len;
                }
        return copied;
    }
};

std::string filled(size_t n, char c) { return std::string(n, c); }

dump::CoreContents sample_contents(const std::string& lib) {
    dump::CoreContents c;
    c.process = {.pid = 500, .ppid = 1, .pgrp = 500, .sid = 400, .uid = 1000, .gid = 1000, .state = 'S',
                 .fname = "worker", .psargs = "worker --serve"};
    dump::CoreThread main_thread{.tid = 500};
    main_thread.regs.rip = 0x10000010;
    main_thread.regs.rsp = 0x20000f00;
    main_thread.user_seconds = 3.25;
    main_thread.system_seconds = 0.5;
    main_thread.fpregs = user_fpregs_struct{};
    main_thread.fpregs->mxcsr = 0x1f80;
    dump::CoreThread second{.tid = 501};
    second.regs.rip = 0x10000020;
    c.threads = {main_thread, second};
    c.auxv = {{AT_PAGESZ, kPage}, {AT_PHDR, 0x10000040}};
    c.files = {{0x10000000, 0x10002000, 0, lib}};
    dump::PlannedSegment text{.start = 0x10000000, .end = 0x10002000, .flags = PF_R | PF_X, .filesz = kPage};
    text.runs = {{0x10000000, kPage}};
    dump::PlannedSegment heap{.start = 0x20000000, .end = 0x20004000, .flags = PF_R | PF_W, .filesz = 4 * kPage};
    heap.runs = {{0x20000000, kPage}, {0x20003000, kPage}};  // pages 1 and 2 never touched: holes
    c.segments = {text, heap};
    c.paratext = R"({"threads":[{"tid":500,"name":"worker","state":"S"},{"tid":501,"name":"io-loop","state":"R"}]})";
    return c;
}

}  // namespace

TEST_CASE("dump writer: a written core reads back with threads, CPU times, paratext and holes") {
    TempDir dir;
    std::string lib_bytes = filled(kPage, 'L') + filled(kPage, 'T');
    std::string lib = dir.file("libfake.so", lib_bytes);
    auto contents = sample_contents(lib);
    FakeMemory memory;
    memory.blocks[0x10000000] = filled(kPage, 'M');  // the core's copy of the first page differs from disk
    memory.blocks[0x20000000] = filled(kPage, 'h');
    memory.blocks[0x20003000] = filled(kPage, 'H');
    std::string path = dir.path() + "/out.core";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    {
        dump::CoreFileWriter writer(fd, path);
        auto preview = contents;
        REQUIRE(writer.reserve(preview, dump::build_notes(preview).size()));
        REQUIRE(writer.prepare(contents, dump::build_notes(contents)));
        CHECK(writer.copy_memory(contents, [&](const auto& r) { return memory.copy(r); }) == 3 * kPage);
        REQUIRE(writer.finish(contents));
    }
    ::close(fd);

    auto target = open_core(path, {});
    REQUIRE(target);
    auto& t = **target;
    REQUIRE(t.threads().size() == 2);
    CHECK(t.threads()[0].tid == 500);
    CHECK(t.threads()[0].regs.rip == 0x10000010);
    CHECK(t.threads()[0].regs.rsp == 0x20000f00);
    CHECK(t.threads()[0].has_cpu_times);
    CHECK(t.threads()[0].user_seconds == doctest::Approx(3.25));
    CHECK(t.threads()[0].system_seconds == doctest::Approx(0.5));
    CHECK(t.threads()[1].name == "io-loop");
    CHECK(t.threads()[1].state == 'R');
    CHECK(t.process().pid == 500);
    CHECK(t.process().ppid == 1);
    CHECK(t.process().uid == 1000);
    CHECK(t.process().name == "worker");
    CHECK(t.process().cmdline == "worker --serve");
    CHECK(t.process().executable == lib);
    CHECK(t.auxv().size() == 2);
    CHECK(t.paratext());
    std::string buf(4 * kPage, '\0');
    CHECK(t.read(0x20000000, buf.data(), buf.size()) == buf.size());
    CHECK(buf == filled(kPage, 'h') + filled(2 * kPage, '\0') + filled(kPage, 'H'));
    CHECK(t.read(0x10000000, buf.data(), 2 * kPage) == 2 * kPage);
    CHECK(buf.substr(0, 2 * kPage) == filled(kPage, 'M') + filled(kPage, 'T'));
    REQUIRE(t.mappings().size() == 2);
    CHECK(t.mappings()[0].path == lib);
    CHECK(t.mappings()[1].perms == "rw-p");
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(uint64_t(st.st_blocks) * 512 < uint64_t(st.st_size));  // holes cost no disk
}

TEST_CASE("dump writer: NT_FPREGSET follows each thread's NT_PRSTATUS") {
    auto contents = sample_contents("/lib/x.so");
    auto notes = elf::parse_notes(dump::build_notes(contents));
    REQUIRE(notes);
    std::vector<uint32_t> types;
    for (const auto& n : *notes) types.push_back(n.type);
    std::vector<uint32_t> expected = {NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE, NT_FPREGSET, NT_PRSTATUS,
                                      kSnagParatextType};
    CHECK(types == expected);
    CHECK((*notes)[4].desc.size() == sizeof(user_fpregs_struct));
}

TEST_CASE("dump plan: what each kind of mapping contributes") {
    std::string exe(4096, '\0');
    exe.resize(std::max<ssize_t>(0, ::readlink("/proc/self/exe", exe.data(), exe.size())));
    std::vector<Mapping> maps = {
        {.start = 0x1000, .end = 0x3000, .file_offset = 0, .perms = "r-xp", .path = exe},
        {.start = 0x3000, .end = 0x4000, .file_offset = 0x2000, .perms = "r--p", .path = exe},
        {.start = 0x4000, .end = 0x5000, .file_offset = 0x3000, .perms = "rw-p", .path = exe},
        {.start = 0x5000, .end = 0x8000, .perms = "rw-p", .path = "[heap]"},
        {.start = 0x8000, .end = 0x9000, .perms = "---p", .path = ""},
        {.start = 0x9000, .end = 0xa000, .perms = "r--p", .path = "[vvar]"},
        {.start = 0xa000, .end = 0xc000, .perms = "r-xp", .path = "[vdso]"},
        {.start = 0xc000, .end = 0xd000, .perms = "rw-s", .path = "/dev/shm/ring"},
        {.start = 0xd000, .end = 0xe000, .perms = "rw-s", .path = "/var/data.db"},
        {.start = 0xff600000, .end = 0xff601000, .perms = "--xp", .path = "[vsyscall]"},
    };
    dump::CoreContents c;
    dump::DumpPlanner(0, {}).plan(maps, c);
    REQUIRE(c.segments.size() == 9);
    auto filesz = [&](size_t i) { return c.segments[i].filesz; };
    CHECK(filesz(0) == kPage);   // ELF headers of the executable, like the kernel
    CHECK(filesz(1) == 0);       // read-only, never written: the file has it
    CHECK(filesz(2) == kPage);   // writable data
    CHECK(filesz(3) == 3 * kPage);
    CHECK(filesz(4) == 0);
    CHECK(filesz(5) == 0);
    CHECK(filesz(6) == 2 * kPage);
    CHECK(filesz(7) == kPage);   // shared memory exists nowhere else
    CHECK(filesz(8) == 0);       // a shared file mapping is the file (and not an ELF file)
    CHECK(c.segments[0].flags == (PF_R | PF_X));
    REQUIRE(c.files.size() == 5);
    CHECK(c.files[1].file_offset == 0x2000);
    CHECK(c.files[4].path == "/var/data.db");
}
