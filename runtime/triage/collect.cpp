#include "triage/collect.hpp"

#include "base/fd_io.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace snag::triage {
namespace {

namespace fs = std::filesystem;

constexpr int kZstdLevel = 3;   // a core of zeros and repeated pages shrinks ~10x at level 3, fast

int64_t spool_bytes(const std::string& spool) {
    int64_t total = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(spool, ec))
        if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
    return total;
}

// Counts this capture against the hourly limit: true when it may go on. The times of the last
// hour's captures live in SPOOL/.collect-times, read and written under a lock.
bool take_rate_slot(const std::string& spool, int max_per_hour) {
    std::string path = spool + "/.collect-times";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return true;   // no bookkeeping possible: the size limits still hold
    ::flock(fd, LOCK_EX);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    int64_t now = std::time(nullptr);
    std::vector<int64_t> recent;
    std::istringstream in(text);
    for (int64_t t; in >> t;)
        if (t > now - 3600 && t <= now) recent.push_back(t);
    bool allowed = static_cast<int>(recent.size()) < max_per_hour;
    if (allowed) recent.push_back(now);
    std::string out;
    for (int64_t t : recent) out += std::to_string(t) + "\n";
    if (::ftruncate(fd, 0) == 0) (void)::pwrite(fd, out.data(), out.size(), 0);
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return allowed;
}

// Compresses fd's stream into out until EOF; refused is set when a limit is crossed.
Expected<void> compress_stream(int fd, int out, const CollectLimits& limits, int64_t spool_used, Collected& c) {
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!cctx) return fail("out of memory starting zstd");
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kZstdLevel);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
    std::vector<char> in(ZSTD_CStreamInSize()), buf(ZSTD_CStreamOutSize());
    int64_t written = 0;
    for (bool last = false; !last;) {
        ssize_t got = ::read(fd, in.data(), in.size());
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return fail(std::string("cannot read the core from the pipe: ") + std::strerror(errno));
        last = got == 0;
        c.bytes_in += got;
        if (c.bytes_in > limits.max_core_bytes) {
            c.refused = "the core is larger than --max-size (" + std::to_string(limits.max_core_bytes >> 20) + " MiB)";
            return {};
        }
        ZSTD_inBuffer input{in.data(), static_cast<size_t>(got), 0};
        for (bool done = false; !done;) {
            ZSTD_outBuffer output{buf.data(), buf.size(), 0};
            size_t left = ZSTD_compressStream2(cctx.get(), &output, &input, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left)) return fail(std::string("zstd: ") + ZSTD_getErrorName(left));
            if (!write_all(out, buf.data(), output.pos))
                return fail(std::string("cannot write to the spool: ") + std::strerror(errno));
            written += static_cast<int64_t>(output.pos);
            if (spool_used + written > limits.max_spool_bytes) {
                c.refused = "the spool is full (--max-spool " + std::to_string(limits.max_spool_bytes >> 20) + " MiB)";
                return {};
            }
            done = last ? left == 0 : input.pos == input.size;
        }
    }
    return {};
}

}  // namespace

Expected<Collected> collect_core(int fd, const std::string& spool, const std::string& name,
                                 const CollectLimits& limits) {
    std::error_code ec;
    fs::create_directories(spool, ec);
    if (ec) return fail("cannot create the spool " + spool + ": " + ec.message());
    Collected c;
    int64_t used = spool_bytes(spool);
    if (used >= limits.max_spool_bytes) {
        c.refused = "the spool is full (--max-spool " + std::to_string(limits.max_spool_bytes >> 20) + " MiB)";
        return c;
    }
    if (!take_rate_slot(spool, limits.max_per_hour)) {
        c.refused = "more than " + std::to_string(limits.max_per_hour) + " cores in the last hour (--max-per-hour)";
        return c;
    }
    std::string final_path = spool + "/" + name + ".core.zst";
    std::string partial = spool + "/." + name + ".partial";
    int out = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) return fail("cannot write " + partial + ": " + std::strerror(errno));
    auto done = compress_stream(fd, out, limits, used, c);
    bool closed = ::close(out) == 0;
    if (!done || !c.refused.empty() || !closed) {
        ::unlink(partial.c_str());
        if (!done) return std::unexpected(done.error());
        if (!closed) return fail("cannot write " + partial + ": " + std::strerror(errno));
        return c;
    }
    if (::rename(partial.c_str(), final_path.c_str()) != 0) {
        ::unlink(partial.c_str());
        return fail("cannot move the core to " + final_path + ": " + std::strerror(errno));
    }
    c.path = final_path;
    return c;
}

}  // namespace snag::triage
