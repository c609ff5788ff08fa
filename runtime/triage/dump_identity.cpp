#include "triage/dump_identity.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "target/decompress.hpp"
#include "base/fnv.hpp"

namespace snag::triage {
namespace {

constexpr size_t kMaxNotes = 64u << 20;   // a core with 10,000 threads has ~10 MiB of notes

// Reads [offset, offset+len) of the (decompressed) core.
using ReadAt = std::function<bool(uint64_t offset, size_t len, std::string& out)>;

// plain_size: the file's size for an uncompressed core (a cut one is another dump), -1 otherwise.
std::string identity_of(const ReadAt& read, int64_t plain_size) {
    std::string header;
    if (!read(0, sizeof(Elf64_Ehdr), header) || std::memcmp(header.data(), ELFMAG, SELFMAG) != 0) return "";
    Elf64_Ehdr ehdr;
    std::memcpy(&ehdr, header.data(), sizeof ehdr);
    if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_type != ET_CORE || ehdr.e_phentsize != sizeof(Elf64_Phdr) ||
        ehdr.e_phnum == 0)
        return "";
    std::string table;
    if (!read(ehdr.e_phoff, size_t{ehdr.e_phnum} * sizeof(Elf64_Phdr), table)) return "";
    uint64_t h = kFnvOffset;
    size_t notes = 0;
    // The size the headers promise: the same for a core and its compressed copy.
    uint64_t extent = ehdr.e_shoff + uint64_t{ehdr.e_shnum} * ehdr.e_shentsize;
    for (size_t i = 0; i < ehdr.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, table.data() + i * sizeof ph, sizeof ph);
        extent = std::max<uint64_t>(extent, ph.p_offset + ph.p_filesz);
        if (ph.p_type != PT_NOTE) continue;
        if (ph.p_filesz > kMaxNotes - notes) return "";
        std::string bytes;
        if (!read(ph.p_offset, ph.p_filesz, bytes)) return "";
        notes += bytes.size();
        h = fnv1a(h, bytes);
    }
    if (notes == 0) return "";
    std::string id = "notes:" + hex64(h) + ":" + std::to_string(extent);
    if (plain_size >= 0 && static_cast<uint64_t>(plain_size) < extent) id += ":cut:" + std::to_string(plain_size);
    return id;
}

}  // namespace

Expected<DumpFile> stat_dump(const std::string& path) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(path, ec);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return fail("cannot read " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(path + " is not a regular file");
    return DumpFile{ec ? path : absolute.lexically_normal().string(), static_cast<int64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::string content_identity(const DumpFile& file) {
    int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string head(4, '\0');
    ssize_t got = ::pread(fd, head.data(), head.size(), 0);
    head.resize(got > 0 ? static_cast<size_t>(got) : 0);
    Compression format = detect_compression(head);
    std::string identity;
    if (format == Compression::None) {
        identity = identity_of([fd](uint64_t offset, size_t len, std::string& out) {
            out.assign(len, '\0');
            ssize_t n = ::pread(fd, out.data(), len, static_cast<off_t>(offset));
            return n == static_cast<ssize_t>(len);
        }, file.size);
    } else {
        // The notes follow the program headers at the start of a core: a prefix holds them.
        std::string prefix;
        identity = identity_of([&](uint64_t offset, size_t len, std::string& out) {
            if (offset + len > prefix.size()) {
                auto more = decompress_prefix(fd, format, file.path, std::min<uint64_t>(offset + len, kMaxNotes + (1 << 20)));
                if (!more) return false;
                prefix = std::move(*more);
            }
            if (offset + len > prefix.size()) return false;
            out = prefix.substr(offset, len);
            return true;
        }, -1);
    }
    ::close(fd);
    return identity;
}

}  // namespace snag::triage
