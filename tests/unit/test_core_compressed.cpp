// Compressed cores (zstd as systemd-coredump writes them, gzip) read like plain ones.
#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include "target/target.hpp"
#include "test_core_builder.hpp"

using snag::test::SyntheticCore;
using snag::test::TempDir;

namespace {

std::string plain_core() {
    SyntheticCore core;
    core.thread(42, 0x1234, 0x7000, 6, 10, 20);
    core.process(42, 1, 0, "zipped", "zipped");
    std::string data(3 * 4096, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    core.load(0x7000, data, data.size());
    return core.bytes();
}

std::string zstd(const std::string& in) {
    std::string out(ZSTD_compressBound(in.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
    REQUIRE_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

std::string gzip(const TempDir& dir, const std::string& in) {
    std::string path = dir.path() + "/tmp.gz";
    gzFile gz = gzopen(path.c_str(), "wb");
    gzwrite(gz, in.data(), static_cast<unsigned>(in.size()));
    gzclose(gz);
    std::ifstream file(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
}

void check_same(const std::string& path) {
    auto target = snag::open_core(path, {});
    REQUIRE(target);
    auto& t = **target;
    REQUIRE(t.threads().size() == 1);
    CHECK(t.threads()[0].tid == 42);
    CHECK(t.threads()[0].regs.rip == 0x1234);
    CHECK(t.process().name == "zipped");
    unsigned char byte = 0;
    CHECK(t.read(0x7000 + 5000, &byte, 1) == 1);
    CHECK(byte == static_cast<unsigned char>(5000 * 7));
}

}  // namespace

TEST_CASE("compressed cores: zstd and gzip decompress to the same core") {
    TempDir dir;
    std::string core = plain_core();
    check_same(dir.file("core.zst", zstd(core)));
    check_same(dir.file("core.gz", gzip(dir, core)));
}

TEST_CASE("compressed cores: cut or corrupt streams give an error, never a crash") {
    TempDir dir;
    std::string core = plain_core();
    for (const std::string& packed : {zstd(core), gzip(dir, core)}) {
        for (size_t cut : {size_t{4}, size_t{10}, packed.size() / 2, packed.size() - 1}) {
            CAPTURE(cut);
            CAPTURE(packed.size());
            CAPTURE(int(packed[0] & 0xff));
            auto target = snag::open_core(dir.file("cut", packed.substr(0, cut)), {});
            // zlib cannot tell a gzip cut inside its 8-byte trailer: the data itself is whole then.
            if (target) CHECK((!(*target)->warnings().empty() || cut + 8 >= packed.size()));
        }
        std::string bad = packed;
        for (size_t i = 12; i < bad.size(); i += 5) bad[i] ^= 0x5a;
        auto target = snag::open_core(dir.file("bad", bad), {});
        CHECK_FALSE(target);
    }
}
