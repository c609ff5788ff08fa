// The core reader on hand-built cores: notes, memory, files on disk, paratext, build-ids.
#include <doctest/doctest.h>
#include <elf.h>

#include <csignal>

#include "target/core_notes.hpp"
#include "target/target.hpp"
#include "test_core_builder.hpp"

using snag::test::SyntheticCore;
using snag::test::TempDir;

namespace {

std::string pattern(size_t n, char seed) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i % 251);
    return s;
}

// A minimal ELF whose first page carries a GNU build-id note, padded to size bytes.
std::string tiny_elf(const std::string& build_id, size_t size) {
    std::string out(size, '\0');
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_phoff = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 2;
    Elf64_Phdr ph[2]{};
    ph[0].p_type = PT_LOAD;
    ph[0].p_filesz = ph[0].p_memsz = size;
    ph[1].p_type = PT_NOTE;
    ph[1].p_offset = ph[1].p_vaddr = 0x200;
    ph[1].p_align = 4;
    Elf64_Nhdr nh{4, static_cast<uint32_t>(build_id.size()), NT_GNU_BUILD_ID};
    ph[1].p_filesz = sizeof nh + 4 + ((build_id.size() + 3) & ~size_t{3});
    std::memcpy(out.data(), &eh, sizeof eh);
    std::memcpy(out.data() + sizeof eh, ph, sizeof ph);
    std::memcpy(out.data() + 0x200, &nh, sizeof nh);
    std::memcpy(out.data() + 0x200 + sizeof nh, "GNU", 4);
    std::memcpy(out.data() + 0x200 + sizeof nh + 4, build_id.data(), build_id.size());
    return out;
}

struct Fixture {
    TempDir dir;
    std::string exe_bytes = tiny_elf("\x01\x02\x03\x04", 8192);
    std::string exe = dir.file("prog", exe_bytes);
    SyntheticCore core;

    Fixture() {
        core.thread(100, 0x400123, 0x600ff0, SIGSEGV, 1'500'000, 250'000);
        core.process(100, 1, 1000, "prog", "prog --flag ");
        core.siginfo(SIGSEGV, 1, 0xdead);
        core.auxv({{AT_PAGESZ, 4096}, {AT_PHDR, 0x400040}});
        core.files({{0x400000, 0x402000, 0, exe}});
        core.thread(101, 0x400456, 0x601ff0);
        core.load(0x400000, exe_bytes.substr(0, 4096), 8192, PF_R | PF_X);  // first page only, like the kernel
        core.load(0x600000, pattern(4096, 'a'), 8192);                        // second page not dumped
        core.load(0x700000, "", 4096, 0);                                       // a PROT_NONE guard
    }
    std::string write() { return dir.file("core", core.bytes()); }
};

}  // namespace

TEST_CASE("core: threads, registers, signals and CPU times come from the notes") {
    Fixture f;
    auto target = snag::open_core(f.write(), {});
    REQUIRE(target);
    auto& t = **target;
    CHECK(t.kind() == snag::TargetKind::Core);
    REQUIRE(t.threads().size() == 2);
    CHECK(t.threads()[0].tid == 100);
    CHECK(t.threads()[0].regs.rip == 0x400123);
    CHECK(t.threads()[0].regs.rsp == 0x600ff0);
    CHECK(t.threads()[0].has_registers);
    CHECK(t.threads()[0].pending_signal == SIGSEGV);
    CHECK(t.threads()[0].has_cpu_times);
    CHECK(t.threads()[0].user_seconds == doctest::Approx(1.5));
    CHECK(t.threads()[0].system_seconds == doctest::Approx(0.25));
    CHECK(t.threads()[1].tid == 101);
    CHECK(t.threads()[1].user_seconds == 0);
    CHECK(t.threads()[1].name.empty());
    CHECK(t.process().pid == 100);
    CHECK(t.process().ppid == 1);
    CHECK(t.process().uid == 1000);
    CHECK(t.process().name == "prog");
    CHECK(t.process().cmdline == "prog --flag");
    CHECK(t.process().executable == f.exe);
    REQUIRE(t.signal());
    CHECK(t.signal()->signo == SIGSEGV);
    CHECK(t.signal()->code == 1);
    CHECK(t.signal()->fault_address == 0xdead);
    REQUIRE(t.auxv().size() == 2);
    CHECK(t.auxv()[0].type == AT_PAGESZ);
    CHECK(t.auxv()[1].value == 0x400040);
    CHECK(t.warnings().empty());
}

TEST_CASE("core: cores with zero CPU times (gcore) report no CPU times") {
    SyntheticCore core;
    core.thread(7, 1, 2);
    core.thread(8, 3, 4);
    TempDir dir;
    auto target = snag::open_core(dir.file("core", core.bytes()), {});
    REQUIRE(target);
    CHECK_FALSE((*target)->threads()[0].has_cpu_times);
    CHECK((*target)->process().pid == 7);
    CHECK_FALSE((*target)->signal());
}

TEST_CASE("core: mappings cover file-backed and anonymous segments") {
    Fixture f;
    auto target = snag::open_core(f.write(), {});
    REQUIRE(target);
    const auto& maps = (*target)->mappings();
    REQUIRE(maps.size() == 3);
    CHECK(maps[0].start == 0x400000);
    CHECK(maps[0].end == 0x402000);
    CHECK(maps[0].path == f.exe);
    CHECK(maps[0].perms == "r-xp");
    CHECK(maps[1].path.empty());
    CHECK(maps[1].perms == "rw-p");
    CHECK(maps[2].perms == "---p");
}

TEST_CASE("core: memory reads from the core, the file on disk, zero fill, and nowhere") {
    Fixture f;
    auto target = snag::open_core(f.write(), {});
    REQUIRE(target);
    auto& t = **target;
    std::string buf(8192, '\0');
    // Across the dumped first page into the page only the file on disk holds.
    CHECK(t.read(0x400000, buf.data(), 8192) == 8192);
    CHECK(buf == f.exe_bytes);
    CHECK(t.read(0x600000, buf.data(), 8192) == 8192);
    CHECK(buf.substr(0, 4096) == pattern(4096, 'a'));
    CHECK(buf.substr(4096) == std::string(4096, '\0'));
    CHECK(t.read(0x700000, buf.data(), 16) == 0);
    CHECK(t.read(0x500000, buf.data(), 16) == 0);
    CHECK(t.read(0x601ff8, buf.data(), 16) == 8);  // stops at the end of the segment
    CHECK(t.read_u64(0x600000) == *reinterpret_cast<const uint64_t*>(pattern(8, 'a').data()));
    CHECK(t.read(UINT64_MAX - 3, buf.data(), 16) == 0);
}

TEST_CASE("core: --sysroot and --exe decide where mapped files are found") {
    Fixture f;
    std::string core_path = f.write();
    {
        snag::TargetOptions opts;
        opts.sysroot = f.dir.path() + "/root/";
        auto target = snag::open_core(core_path, opts);
        REQUIRE(target);
        CHECK((*target)->local_path(f.exe).empty());
        CHECK_FALSE((*target)->warnings().empty());  // the exe is not under the sysroot
        char byte;
        CHECK((*target)->read(0x401000, &byte, 1) == 0);
    }
    {
        // A process run in a chroot, dumped from outside: its paths already start with DIR.
        snag::TargetOptions opts;
        opts.sysroot = f.dir.path() + "/";
        auto target = snag::open_core(core_path, opts);
        REQUIRE(target);
        CHECK((*target)->local_path(f.exe) == f.exe);
        CHECK((*target)->warnings().empty());
    }
    {
        std::string other = f.dir.file("other", tiny_elf("\x01\x02\x03\x04", 8192));
        snag::TargetOptions opts;
        opts.exe_override = other;
        auto target = snag::open_core(core_path, opts);
        REQUIRE(target);
        CHECK((*target)->local_path(f.exe) == other);
        CHECK((*target)->local_path("/nonexistent/lib.so").empty());
    }
}

TEST_CASE("core: a file on disk with another build-id than the core's gives a warning") {
    Fixture f;
    std::string core_path = f.write();
    f.dir.file("prog", tiny_elf("\x09\x09\x09\x09", 8192));
    auto target = snag::open_core(core_path, {});
    REQUIRE(target);
    REQUIRE((*target)->warnings().size() == 1);
    CHECK((*target)->warnings()[0].find("09090909") != std::string::npos);
    CHECK((*target)->warnings()[0].find("01020304") != std::string::npos);
}

TEST_CASE("core: snag's paratext note names threads and gives the full command line") {
    SyntheticCore core;
    core.thread(10, 1, 2);
    core.thread(11, 3, 4);
    core.process(10, 1, 0, "py", "python3 -c ...");
    core.note("SNAG", snag::kSnagParatextType,
              R"J({"cmdline":["python3","-c","import x; x.run(1, 2)"],)J"
              R"J("threads":[{"tid":11,"name":"worker-1","state":"R"},{"tid":10,"name":"py"}]})J");
    TempDir dir;
    auto target = snag::open_core(dir.file("core", core.bytes()), {});
    REQUIRE(target);
    auto& t = **target;
    REQUIRE(t.paratext());
    CHECK(t.thread(11)->name == "worker-1");
    CHECK(t.thread(11)->state == 'R');
    CHECK(t.thread(10)->name == "py");
    CHECK(t.process().cmdline == "python3 -c import x; x.run(1, 2)");
}

TEST_CASE("core: a broken paratext note is ignored with a warning") {
    SyntheticCore core;
    core.thread(10, 1, 2);
    core.note("SNAG", snag::kSnagParatextType, "{\"threads\": [");
    TempDir dir;
    auto target = snag::open_core(dir.file("core", core.bytes()), {});
    REQUIRE(target);
    CHECK((*target)->threads()[0].name.empty());
    CHECK((*target)->warnings().size() == 1);
}
