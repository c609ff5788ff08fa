#include "target/decompress.hpp"

#include "base/fd_io.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

namespace snag {
namespace {

constexpr size_t kChunk = 1 << 20;

// O_TMPFILE needs filesystem support; mkstemp + unlink is the portable fallback.
Expected<int> open_temp_file() {
    const char* dir = std::getenv("TMPDIR");
    std::string base = dir && *dir ? dir : "/tmp";
    int fd = ::open(base.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    std::string name = base + "/snag-core-XXXXXX";
    fd = ::mkstemp(name.data());
    if (fd < 0) return fail("cannot create a temporary file in " + base + ": " + std::strerror(errno));
    ::unlink(name.c_str());
    return fd;
}

// Receives decompressed bytes; returns false when it wants no more.
using Sink = std::function<bool(const char*, size_t)>;

// Stops reading when the sink is full: a sink that refused bytes is no write failure.
struct SinkState {
    const Sink& sink;
    bool full = false;
    bool take(const char* data, size_t len) {
        if (sink(data, len)) return true;
        full = true;
        return false;
    }
};

Expected<void> inflate_zstd(int in, SinkState& out, const std::string& path, std::vector<std::string>& warnings) {
    std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(), ZSTD_freeDStream);
    if (!stream) return fail("out of memory decompressing " + path);
    ZSTD_initDStream(stream.get());
    std::vector<char> inbuf(ZSTD_DStreamInSize()), outbuf(ZSTD_DStreamOutSize());
    size_t last = 0;
    for (;;) {
        ssize_t got = ::read(in, inbuf.data(), inbuf.size());
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return fail("cannot read " + path + ": " + std::strerror(errno));
        if (got == 0) break;
        ZSTD_inBuffer input{inbuf.data(), static_cast<size_t>(got), 0};
        while (input.pos < input.size) {
            ZSTD_outBuffer output{outbuf.data(), outbuf.size(), 0};
            last = ZSTD_decompressStream(stream.get(), &output, &input);
            if (ZSTD_isError(last))
                return fail(path + " is not a valid zstd stream: " + ZSTD_getErrorName(last));
            if (!out.take(outbuf.data(), output.pos)) return {};
        }
    }
    if (last != 0) warnings.push_back(path + ": the zstd stream ends early; the core is incomplete");
    return {};
}

Expected<void> inflate_gzip(int in, SinkState& out, const std::string& path, std::vector<std::string>& warnings) {
    int dup = ::dup(in);
    if (dup < 0) return fail("cannot read " + path + ": " + std::strerror(errno));
    gzFile gz = ::gzdopen(dup, "rb");
    if (!gz) {
        ::close(dup);
        return fail("cannot read " + path + " as gzip");
    }
    std::vector<char> buf(kChunk);
    for (;;) {
        int got = ::gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
        if (got < 0) {
            int code = 0;
            std::string why = ::gzerror(gz, &code);
            ::gzclose(gz);
            return fail(path + " is not a valid gzip stream: " + why);
        }
        if (got == 0) break;
        if (!out.take(buf.data(), static_cast<size_t>(got))) {
            ::gzclose(gz);
            return {};
        }
    }
    int code = 0;
    ::gzerror(gz, &code);
    if (code == Z_BUF_ERROR) warnings.push_back(path + ": the gzip stream ends early; the core is incomplete");
    ::gzclose(gz);
    return {};
}

}  // namespace

Compression detect_compression(std::string_view head) {
    if (head.size() >= 4 && std::memcmp(head.data(), "\x28\xb5\x2f\xfd", 4) == 0) return Compression::Zstd;
    if (head.size() >= 2 && std::memcmp(head.data(), "\x1f\x8b", 2) == 0) return Compression::Gzip;
    return Compression::None;
}

Expected<int> decompress_to_temp(int fd, Compression format, const std::string& path,
                                 std::vector<std::string>& warnings) {
    auto out = open_temp_file();
    if (!out) return std::unexpected(out.error());
    if (::lseek(fd, 0, SEEK_SET) < 0) {
        ::close(*out);
        return fail("cannot seek in " + path + ": " + std::strerror(errno));
    }
    int target = *out;
    Sink to_file = [target](const char* data, size_t len) { return write_all(target, data, len); };
    SinkState sink{to_file};
    auto done = format == Compression::Zstd ? inflate_zstd(fd, sink, path, warnings)
                                            : inflate_gzip(fd, sink, path, warnings);
    if (done && sink.full) done = fail("cannot write the decompressed " + path + ": " + std::strerror(errno));
    if (!done) {
        ::close(*out);
        return std::unexpected(done.error());
    }
    return *out;
}

Expected<std::string> decompress_prefix(int fd, Compression format, const std::string& path, size_t max_bytes) {
    if (::lseek(fd, 0, SEEK_SET) < 0) return fail("cannot seek in " + path + ": " + std::strerror(errno));
    std::string text;
    Sink to_string = [&](const char* data, size_t len) {
        text.append(data, std::min(len, max_bytes - text.size()));
        return text.size() < max_bytes;
    };
    SinkState sink{to_string};
    std::vector<std::string> warnings;
    auto done = format == Compression::Zstd ? inflate_zstd(fd, sink, path, warnings)
                                            : inflate_gzip(fd, sink, path, warnings);
    if (!done) return std::unexpected(done.error());
    return text;
}

}  // namespace snag
