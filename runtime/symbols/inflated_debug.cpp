#include "symbols/inflated_debug.hpp"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>

#ifdef SNAG_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

namespace snag {

namespace {

constexpr int kPopulateRead = 22;   // MADV_POPULATE_READ
constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE

// Location lists describe where variables live: only locals and arguments need them, and they
// are a quarter of python3.11's compressed DWARF. Otherwise left out of the copy (SHT_NOBITS:
// libdw skips it).
bool unused_section(std::string_view name, bool location_lists) {
    return !location_lists && (name == ".debug_loc" || name == ".debug_loclists");
}

// One piece of the new file: bytes copied as they are, or a zlib stream inflated.
struct Piece {
    size_t from = 0;  // offset in the original file
    size_t size = 0;  // bytes read there
    size_t to = 0;    // offset in the copy
    size_t inflated_size = 0;  // bytes written there when inflating
    bool inflate = false;
};

struct Plan {
    std::vector<Piece> pieces;
    std::vector<Elf64_Shdr> sections;  // written at shoff, replacing the original table
    size_t shoff = 0;
    size_t size = 0;
    bool worth_it = false;  // at least one section to inflate
};

struct Mapping {
    void* data = MAP_FAILED;
    size_t size = 0;
    Mapping() = default;
    Mapping(void* d, size_t s) : data(d), size(s) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(Mapping&& other) {
        std::swap(data, other.data);
        std::swap(size, other.size);
        return *this;
    }
    ~Mapping() {
        if (data != MAP_FAILED) munmap(data, size);
    }
    const uint8_t* bytes() const { return static_cast<const uint8_t*>(data); }
};

size_t align_up(size_t value, size_t alignment) {
    if (alignment <= 1) return value;
    return (value + alignment - 1) / alignment * alignment;
}

template <typename T>
std::optional<T> read_at(const uint8_t* data, size_t size, size_t offset) {
    if (offset > size || size - offset < sizeof(T)) return std::nullopt;
    T value;
    memcpy(&value, data + offset, sizeof(T));
    return value;
}

// Section headers and their names, or nullopt for anything but a sane little-endian ELF64.
std::optional<Plan> plan_copy(const uint8_t* data, size_t size, bool location_lists) {
    auto ehdr = read_at<Elf64_Ehdr>(data, size, 0);
    if (!ehdr || memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 || ehdr->e_ident[EI_CLASS] != ELFCLASS64 ||
        ehdr->e_ident[EI_DATA] != ELFDATA2LSB || ehdr->e_shentsize != sizeof(Elf64_Shdr) || ehdr->e_shnum == 0 ||
        ehdr->e_shstrndx >= ehdr->e_shnum || ehdr->e_shoff > size ||
        (size - ehdr->e_shoff) / sizeof(Elf64_Shdr) < ehdr->e_shnum)
        return std::nullopt;
    Plan plan;
    plan.sections.resize(ehdr->e_shnum);
    memcpy(plan.sections.data(), data + ehdr->e_shoff, ehdr->e_shnum * sizeof(Elf64_Shdr));
    const Elf64_Shdr& names = plan.sections[ehdr->e_shstrndx];
    if (names.sh_offset > size || size - names.sh_offset < names.sh_size) return std::nullopt;
    auto name_of = [&](const Elf64_Shdr& s) -> std::string_view {
        if (s.sh_name >= names.sh_size) return {};
        const char* p = reinterpret_cast<const char*>(data + names.sh_offset + s.sh_name);
        return std::string_view(p, strnlen(p, names.sh_size - s.sh_name));
    };
    size_t headers_end = std::max<size_t>(sizeof(Elf64_Ehdr), ehdr->e_phoff + size_t{ehdr->e_phnum} * ehdr->e_phentsize);
    if (headers_end > size) return std::nullopt;
    auto inflatable = [&](const Elf64_Shdr& s) -> std::optional<Elf64_Chdr> {
        if (!(s.sh_flags & SHF_COMPRESSED) || s.sh_type == SHT_NOBITS || !name_of(s).starts_with(".debug_"))
            return std::nullopt;
        auto chdr = read_at<Elf64_Chdr>(data, size, s.sh_offset);
        if (!chdr || chdr->ch_type != ELFCOMPRESS_ZLIB || s.sh_size < sizeof(Elf64_Chdr) ||
            chdr->ch_size > (size_t{1} << 32))
            return std::nullopt;
        return chdr;
    };
    // What precedes the first compressed section (headers, notes the program headers point
    // at) keeps its offsets; later sections are packed after it, so the copy has no holes.
    size_t cut = size;
    for (const Elf64_Shdr& s : plan.sections)
        if (inflatable(s)) cut = std::min<size_t>(cut, s.sh_offset);
    if (cut == size) return plan;
    plan.pieces.push_back({0, std::max(headers_end, cut), 0, 0, false});
    size_t end = std::max(headers_end, cut);
    for (Elf64_Shdr& s : plan.sections) {
        if (s.sh_type == SHT_NOBITS || s.sh_size == 0) continue;
        if (s.sh_offset > size || size - s.sh_offset < s.sh_size) return std::nullopt;
        auto chdr = inflatable(s);
        if (!chdr) {
            if (s.sh_offset + s.sh_size <= cut) continue;  // inside the copied head
            if (s.sh_offset < cut) return std::nullopt;    // straddles it: not a layout to rewrite
            end = align_up(end, std::clamp<size_t>(s.sh_addralign, 1, 4096));
            plan.pieces.push_back({s.sh_offset, s.sh_size, end, 0, false});
            s.sh_offset = end;
            end += s.sh_size;
            continue;
        }
        s.sh_flags &= ~uint64_t{SHF_COMPRESSED};
        if (unused_section(name_of(s), location_lists)) {
            s.sh_type = SHT_NOBITS;
            continue;
        }
        end = align_up(end, std::clamp<size_t>(chdr->ch_addralign, 1, 4096));
        plan.pieces.push_back({s.sh_offset + sizeof(Elf64_Chdr), s.sh_size - sizeof(Elf64_Chdr), end,
                               chdr->ch_size, true});
        s.sh_offset = end;
        s.sh_size = chdr->ch_size;
        s.sh_addralign = std::max<uint64_t>(chdr->ch_addralign, 1);
        end += chdr->ch_size;
        plan.worth_it = true;
    }
    plan.shoff = align_up(end, alignof(Elf64_Shdr));
    plan.size = plan.shoff + plan.sections.size() * sizeof(Elf64_Shdr);
    return plan;
}

// A file being built: the original (read-only), the copy (memfd, mapped writable) and its plan.
struct Build {
    std::string path;
    Mapping original;
    Mapping copy;
    int fd = -1;
    Plan plan;
    std::atomic<bool> failed{false};
};

// Original mapped and its copy planned; nullptr when there is nothing to inflate.
std::unique_ptr<Build> plan_build(const std::string& path, bool location_lists) {
    int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return nullptr;
    struct stat st;
    auto build = std::make_unique<Build>();
    build->path = path;
    if (fstat(in, &st) == 0 && st.st_size > 0)
        build->original =
            Mapping(mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, in, 0), st.st_size);
    ::close(in);
    if (build->original.data == MAP_FAILED) return nullptr;
    auto plan = plan_copy(build->original.bytes(), build->original.size, location_lists);
    if (!plan || !plan->worth_it) return nullptr;
    build->plan = std::move(*plan);
    return build;
}

// The copy's memory: an anonymous file mapped writable; false when it cannot be had.
bool allocate_copy(Build& build) {
    build.fd = memfd_create("snag-inflated-debug", MFD_CLOEXEC);
    if (build.fd < 0) return false;
    if (ftruncate(build.fd, build.plan.size) != 0) {
        ::close(build.fd);
        return false;
    }
    // Populated at once: faulting in tens of MB of shared memory a page at a time costs more.
    build.copy = Mapping(mmap(nullptr, build.plan.size, PROT_READ | PROT_WRITE, MAP_SHARED, build.fd, 0),
                         build.plan.size);
    if (build.copy.data == MAP_FAILED) {
        ::close(build.fd);
        return false;
    }
    return true;
}

class Inflater {
public:
#ifdef SNAG_HAVE_LIBDEFLATE
    Inflater() : d_(libdeflate_alloc_decompressor()) {}
    ~Inflater() { libdeflate_free_decompressor(d_); }
    bool inflate(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
        size_t written = 0;
        return d_ && libdeflate_zlib_decompress(d_, in, in_size, out, out_size, &written) == LIBDEFLATE_SUCCESS &&
               written == out_size;
    }

private:
    libdeflate_decompressor* d_;
#else
    bool inflate(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
        uLongf written = out_size;
        return uncompress(out, &written, in, in_size) == Z_OK && written == out_size;
    }
#endif
};

struct Job {
    Build* build;
    const Piece* piece;
};

// Maps a range's pages at once (Linux 5.14+; elsewhere they fault in one by one).
void populate(const void* start, size_t len, int advice) {
    auto first = reinterpret_cast<uintptr_t>(start) & ~uintptr_t{4095};
    size_t span = reinterpret_cast<uintptr_t>(start) + len - first;
    madvise(reinterpret_cast<void*>(first), span, advice);
}

void run(const Job& job, Inflater& inflater) {
    const Piece& p = *job.piece;
    const uint8_t* from = job.build->original.bytes() + p.from;
    uint8_t* to = static_cast<uint8_t*>(job.build->copy.data) + p.to;
    // Each worker maps the pages of its own piece: page faults are most of the kernel's share.
    populate(from, p.size, kPopulateRead);
    populate(to, p.inflate ? p.inflated_size : p.size, kPopulateWrite);
    if (!p.inflate) memcpy(to, from, p.size);
    else if (!inflater.inflate(from, p.size, to, p.inflated_size)) job.build->failed = true;
}

// Largest first, so the longest inflation starts at once and small ones fill in around it.
void run_all(std::vector<Job>& jobs) {
    auto weight = [](const Job& j) { return j.piece->inflate ? j.piece->inflated_size * 3 : j.piece->size; };
    std::sort(jobs.begin(), jobs.end(), [&](const Job& a, const Job& b) { return weight(a) > weight(b); });
    std::atomic<size_t> next{0};
    auto worker = [&] {
        Inflater inflater;
        for (size_t i; (i = next.fetch_add(1)) < jobs.size();) run(jobs[i], inflater);
    };
    size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
    threads = std::min(threads, jobs.size());
    std::vector<std::thread> helpers;
    try {
        for (size_t i = 1; i < threads; ++i) helpers.emplace_back(worker);
    } catch (const std::system_error&) {
        // No more threads: the ones running (at least this one) take every job.
    }
    worker();
    for (auto& t : helpers) t.join();
}

// The ELF header with the new section table's place, and the table itself.
void finish(Build& build) {
    auto* bytes = static_cast<uint8_t*>(build.copy.data);
    Elf64_Ehdr ehdr;
    memcpy(&ehdr, bytes, sizeof ehdr);
    ehdr.e_shoff = build.plan.shoff;
    memcpy(bytes, &ehdr, sizeof ehdr);
    memcpy(bytes + build.plan.shoff, build.plan.sections.data(), build.plan.sections.size() * sizeof(Elf64_Shdr));
}

}  // namespace

InflatedDebugFiles::~InflatedDebugFiles() {
    for (auto& [path, fd] : images_)
        if (fd >= 0) ::close(fd);
}

void InflatedDebugFiles::prepare(const std::vector<std::string>& paths) {
    std::vector<std::unique_ptr<Build>> builds;
    for (const auto& path : paths) {
        if (path.empty() || images_.count(path)) continue;
        images_[path] = -1;
        auto build = plan_build(path, location_lists_);
        if (!build) continue;
        if (int kept = cache().open(path, location_lists_, build->plan.size); kept >= 0) {
            images_[path] = kept;  // inflated by an earlier run
            continue;
        }
        if (allocate_copy(*build)) builds.push_back(std::move(build));
    }
    std::vector<Job> jobs;
    for (auto& build : builds)
        for (const Piece& piece : build->plan.pieces) jobs.push_back({build.get(), &piece});
    run_all(jobs);
    for (auto& build : builds) {
        if (build->failed) {
            ::close(build->fd);
            continue;
        }
        finish(*build);
        cache().store(build->path, location_lists_, build->copy.data, build->plan.size);
        images_[build->path] = build->fd;
    }
}

const DebugCache& InflatedDebugFiles::cache() {
    if (!cache_) cache_ = DebugCache::from_environment();
    return *cache_;
}

int InflatedDebugFiles::open(const std::string& path) {
    if (inflate_on_open_ && !images_.count(path)) prepare({path});
    auto prepared = images_.find(path);
    if (prepared != images_.end() && prepared->second >= 0) return fcntl(prepared->second, F_DUPFD_CLOEXEC, 0);
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

}  // namespace snag
