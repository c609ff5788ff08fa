// The core reader on bad input: clear one-sentence errors, never a crash (run under ASan too).
#include <doctest/doctest.h>
#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <random>

#include "target/target.hpp"
#include "test_core_builder.hpp"

using snag::test::SyntheticCore;
using snag::test::TempDir;

namespace {

SyntheticCore sample_core() {
    SyntheticCore core;
    core.thread(100, 0x400123, 0x600ff0, 11, 1000, 2000);
    core.process(100, 1, 0, "prog", "prog");
    core.siginfo(11, 1, 0x10);
    core.auxv({{AT_PAGESZ, 4096}, {AT_EXECFN, 0x600010}});
    core.files({{0x400000, 0x401000, 0, "/nonexistent/prog"}, {0x401000, 0x402000, 1, "/nonexistent/libx.so"}});
    core.thread(101, 0x400456, 0x601ff0);
    core.load(0x400000, std::string(4096, 'x'), 4096, PF_R | PF_X);
    core.load(0x600000, std::string(4096, 's'), 8192);
    return core;
}

std::string error_of(const std::string& path, const snag::TargetOptions& opts = {}) {
    auto target = snag::open_core(path, opts);
    return target ? std::string() : target.error().message;
}

// Whatever opened must answer every query without faulting.
void exercise(snag::Target& t) {
    char buf[256];
    for (const auto& m : t.mappings()) {
        t.read(m.start, buf, sizeof buf);
        t.read(m.end - 8, buf, sizeof buf);
    }
    for (const auto& th : t.threads()) t.read(th.regs.rsp, buf, sizeof buf);
    (void)t.signal();
    (void)t.paratext();
}

}  // namespace

TEST_CASE("core errors: missing, empty, text, directory") {
    TempDir dir;
    CHECK(error_of(dir.path() + "/nope").find("no such file: " + dir.path() + "/nope") == 0);
    CHECK(error_of(dir.file("empty", "")) == dir.path() + "/empty is empty, not a core file");
    CHECK(error_of(dir.file("text", "hello, world\n")).find("is not an ELF file") != std::string::npos);
    CHECK(error_of(dir.file("tiny", "\x7f")).find("is not an ELF file") != std::string::npos);
    CHECK(error_of(dir.path()).find("is a directory") != std::string::npos);
}

TEST_CASE("core errors: an unreadable file names the permission problem") {
    if (::geteuid() == 0) return;  // root reads everything
    TempDir dir;
    std::string path = dir.file("core", sample_core().bytes());
    ::chmod(path.c_str(), 0);
    CHECK(error_of(path).find("permission denied") != std::string::npos);
}

TEST_CASE("core errors: ELF files that are not x86_64 cores") {
    TempDir dir;
    std::string core = sample_core().bytes();
    std::string exec = core;
    exec[16] = ET_EXEC;
    CHECK(error_of(dir.file("exec", exec)).find("not a core dump (it is an executable)") != std::string::npos);
    SyntheticCore arm = sample_core();
    arm.machine = EM_AARCH64;
    CHECK(error_of(dir.file("arm", arm.bytes())).find("core dump for aarch64") != std::string::npos);
    std::string i386 = core;
    i386[EI_CLASS] = ELFCLASS32;
    i386[18] = EM_386;
    i386[19] = 0;
    CHECK(error_of(dir.file("i386", i386)).find("core dump for i386") != std::string::npos);
}

TEST_CASE("core errors: cut at every offset gives an error naming the sizes, or a readable core") {
    TempDir dir;
    std::string core = sample_core().bytes();
    for (size_t cut = 1; cut < core.size(); cut += (cut < 2048 ? 1 : 61)) {
        std::string path = dir.file("cut", core.substr(0, cut));
        std::string err = error_of(path);
        CAPTURE(cut);
        REQUIRE_FALSE(err.empty());
        if (cut >= 64) {
            CHECK(err.find("is truncated: expected ") != std::string::npos);
            CHECK(err.find("file has " + std::to_string(cut)) != std::string::npos);
        }
        snag::TargetOptions lenient;
        lenient.allow_truncated = true;
        auto target = snag::open_core(path, lenient);
        if (target) {
            CHECK_FALSE((*target)->warnings().empty());
            exercise(**target);
        }
    }
}

TEST_CASE("core errors: a core cut inside memory opens leniently with the rest unreadable") {
    TempDir dir;
    std::string core = sample_core().bytes();
    snag::TargetOptions lenient;
    lenient.allow_truncated = true;
    auto target = snag::open_core(dir.file("cut", core.substr(0, core.size() - 4096 + 100)), lenient);
    REQUIRE(target);
    CHECK((*target)->threads().size() == 2);
    char buf[200];
    CHECK((*target)->read(0x600000, buf, sizeof buf) == 100);
    CHECK((*target)->warnings()[0].find("truncated") != std::string::npos);
}

TEST_CASE("core errors: flipped bytes give errors or partial data, never a crash") {
    TempDir dir;
    std::string core = sample_core().bytes();
    std::mt19937 rng(42);
    size_t header_and_notes = 4096;  // everything before the first segment's data
    int opened = 0, failed = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string bad = core;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) {
            size_t at = rng() % header_and_notes;
            bad[at] = static_cast<char>(rng() % 2 ? bad[at] ^ (1 << (rng() % 8)) : rng());
        }
        auto target = snag::open_core(dir.file("flip", bad), {});
        if (!target) {
            ++failed;
            CHECK_FALSE(target.error().message.empty());
            continue;
        }
        ++opened;
        exercise(**target);
    }
    CHECK(opened > 0);
    CHECK(failed > 0);
}

TEST_CASE("core errors: notes that overrun their segment are malformed") {
    SyntheticCore core;
    core.note("CORE", NT_PRSTATUS, std::string(100, '\0'));  // too short for elf_prstatus
    TempDir dir;
    CHECK(error_of(dir.file("short", core.bytes())).find("has malformed notes: NT_PRSTATUS note has 100 bytes") !=
          std::string::npos);
    SyntheticCore files;
    files.note("CORE", NT_FILE, std::string("\xff\xff\xff\xff\xff\xff\xff\x0f", 8) + std::string(8, '\0'));
    CHECK(error_of(dir.file("files", files.bytes())).find("malformed notes: NT_FILE") != std::string::npos);
}

TEST_CASE("core errors: overlapping or out-of-range segments and NT_FILE entries are cut, with a warning") {
    TempDir dir;
    std::string a = std::string(4096, 'a') + std::string(4096, 'A'), b(4096, 'b');
    std::string prog = dir.file("prog", std::string(8192, 'p')), lib = dir.file("lib", std::string(8192, 'l'));
    SyntheticCore core;
    core.thread(100, 0x400123, 0x600ff0);
    core.files({{0x400000, 0x402000, 0, prog},
                {0x401000, 0x403000, 0, lib},                          // overlaps prog's second page
                {uint64_t{1} << 58, (uint64_t{1} << 58) + 4096, 0, lib}});  // past the address space
    core.load(0x600000, a, 8192);  // its second page overlaps the next segment
    core.load(0x601000, b, 4096);
    core.load(uint64_t{1} << 60, std::string(16, 'x'), 4096);  // past the address space
    auto target = snag::open_core(dir.file("core", core.bytes()), {});
    REQUIRE(target);
    auto& t = **target;
    const auto& warnings = t.warnings();
    auto warned = [&](const std::string& text) {
        return std::any_of(warnings.begin(), warnings.end(),
                           [&](const std::string& w) { return w.find(text) != std::string::npos; });
    };
    CHECK(warned("2 memory segment(s) overlap others or lie outside the address space; they were cut to fit"));
    CHECK(warned("2 file mapping(s) in its NT_FILE note overlap others or lie outside the address space"));
    // One owner per address: the later segment and the later file win, nothing lies past 2^57.
    char c = 0;
    CHECK(t.read(0x600800, &c, 1) == 1);
    CHECK(c == 'a');
    CHECK(t.read(0x601800, &c, 1) == 1);
    CHECK(c == 'b');
    CHECK(t.read(0x400800, &c, 1) == 1);
    CHECK(c == 'p');
    CHECK(t.read(0x401800, &c, 1) == 1);
    CHECK(c == 'l');
    CHECK(t.read(uint64_t{1} << 60, &c, 1) == 0);
    CHECK(t.read(uint64_t{1} << 58, &c, 1) == 0);
    for (const auto& m : t.mappings()) {
        CHECK(m.end <= uint64_t{1} << 57);
        CHECK(m.start < m.end);
    }
    for (size_t i = 1; i < t.mappings().size(); ++i) CHECK(t.mappings()[i - 1].end <= t.mappings()[i].start);
}
