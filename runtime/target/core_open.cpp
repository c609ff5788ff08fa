// open_core: validates the ELF core's headers and notes before anything reads it.
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "target/core_notes.hpp"
#include "target/core_target.hpp"
#include "target/decompress.hpp"
#include "target/vector_registers.hpp"

namespace snag {
namespace {

std::string architecture_name(unsigned machine, unsigned elf_class) {
    switch (machine) {
        case EM_386: return "i386";
        case EM_X86_64: return elf_class == ELFCLASS32 ? "x32 (32-bit x86_64)" : "x86_64";
        case EM_AARCH64: return "aarch64";
        case EM_ARM: return "arm";
        case EM_PPC: return "ppc";
        case EM_PPC64: return "ppc64";
        case EM_S390: return elf_class == ELFCLASS64 ? "s390x" : "s390";
        case EM_RISCV: return elf_class == ELFCLASS64 ? "riscv64" : "riscv32";
        case EM_MIPS: return "mips";
        case EM_SPARCV9: return "sparc64";
        case EM_LOONGARCH: return "loongarch";
        default: return "machine " + std::to_string(machine);
    }
}

std::string object_kind(unsigned type) {
    switch (type) {
        case ET_EXEC: return "an executable";
        case ET_DYN: return "a shared object or PIE executable";
        case ET_REL: return "a relocatable object";
        default: return "ELF type " + std::to_string(type);
    }
}

std::string perms_of(uint32_t flags) {
    std::string perms = "---p";
    if (flags & PF_R) perms[0] = 'r';
    if (flags & PF_W) perms[1] = 'w';
    if (flags & PF_X) perms[2] = 'x';
    return perms;
}

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 57;  // x86_64 with 5-level paging
constexpr uint64_t kVsyscallPage = 0xffffffffff600000;  // the kernel dumps this gate page too

std::string truncated(const std::string& path, uint64_t expected, uint64_t size) {
    return path + " is truncated: expected " + std::to_string(expected) + " bytes, file has " +
           std::to_string(size) + " (" + std::to_string(expected - size) + " bytes missing)";
}

}  // namespace

class CoreLoader {
public:
    CoreLoader(CoreTarget& core, std::vector<std::string> warnings) : core_(core) {
        core_.warnings_ = std::move(warnings);
    }

    Expected<void> load() {
        auto header = check_header();
        if (!header) return std::unexpected(header.error());
        auto phdrs = program_headers(*header);
        if (!phdrs) return std::unexpected(phdrs.error());
        if (auto done = take_segments(*phdrs); !done) return done;
        for (const auto& ph : *phdrs) {
            if (ph.p_type != PT_NOTE) continue;
            if (auto done = take_notes(ph); !done) return done;
        }
        finish();
        return {};
    }

private:
    std::string_view bytes() const { return core_.core_.bytes(); }
    const std::string& path() const { return core_.path_; }

    Expected<Elf64_Ehdr> check_header() {
        auto b = bytes();
        if (b.size() < SELFMAG || std::memcmp(b.data(), ELFMAG, SELFMAG) != 0)
            return fail(path() + " is not an ELF file, so not a core dump");
        if (b.size() < 20) return fail(truncated(path(), sizeof(Elf64_Ehdr), b.size()));
        unsigned char elf_class = b[EI_CLASS], data = b[EI_DATA];
        uint16_t type, machine;
        std::memcpy(&type, b.data() + 16, 2);
        std::memcpy(&machine, b.data() + 18, 2);
        if (data == ELFDATA2MSB) {
            type = __builtin_bswap16(type);
            machine = __builtin_bswap16(machine);
        }
        if (type != ET_CORE)
            return fail(path() + " is an ELF file but not a core dump (it is " + object_kind(type) + ")");
        if (machine != EM_X86_64 || elf_class != ELFCLASS64 || data != ELFDATA2LSB)
            return fail(path() + " is a core dump for " + architecture_name(machine, elf_class) +
                        "; snag reads x86_64 cores");
        if (b.size() < sizeof(Elf64_Ehdr)) return fail(truncated(path(), sizeof(Elf64_Ehdr), b.size()));
        Elf64_Ehdr ehdr;
        std::memcpy(&ehdr, b.data(), sizeof ehdr);
        if (ehdr.e_phentsize != sizeof(Elf64_Phdr))
            return fail(path() + " is malformed: program headers of " + std::to_string(ehdr.e_phentsize) +
                        " bytes, expected " + std::to_string(sizeof(Elf64_Phdr)));
        return ehdr;
    }

    // More than 65534 segments: the real count lives in section header 0's sh_info (PN_XNUM).
    Expected<uint64_t> segment_count(const Elf64_Ehdr& ehdr) {
        if (ehdr.e_phnum != PN_XNUM) return ehdr.e_phnum;
        if (ehdr.e_shoff > bytes().size() || bytes().size() - ehdr.e_shoff < sizeof(Elf64_Shdr))
            return fail(truncated(path(), ehdr.e_shoff + sizeof(Elf64_Shdr), bytes().size()));
        Elf64_Shdr shdr;
        std::memcpy(&shdr, bytes().data() + ehdr.e_shoff, sizeof shdr);
        return shdr.sh_info;
    }

    Expected<std::vector<Elf64_Phdr>> program_headers(const Elf64_Ehdr& ehdr) {
        auto count = segment_count(ehdr);
        if (!count) return std::unexpected(count.error());
        if (*count == 0) return fail(path() + " is malformed: it has no program headers");
        uint64_t table = *count * sizeof(Elf64_Phdr);
        if (ehdr.e_phoff > UINT64_MAX - table) return fail(path() + " is malformed: program headers out of range");
        if (ehdr.e_phoff + table > bytes().size())
            return fail(truncated(path(), ehdr.e_phoff + table, bytes().size()));
        std::vector<Elf64_Phdr> phdrs(*count);
        std::memcpy(phdrs.data(), bytes().data() + ehdr.e_phoff, table);
        return phdrs;
    }

    Expected<void> take_segments(const std::vector<Elf64_Phdr>& phdrs) {
        uint64_t size = bytes().size(), needed = 0;
        for (const auto& ph : phdrs) {
            if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE) continue;
            if (ph.p_offset > UINT64_MAX - ph.p_filesz || ph.p_vaddr > UINT64_MAX - ph.p_memsz)
                return fail(path() + " is malformed: a segment's range overflows");
            needed = std::max(needed, ph.p_offset + ph.p_filesz);
            if (ph.p_type == PT_NOTE && ph.p_offset + ph.p_filesz > size)
                return fail(truncated(path(), ph.p_offset + ph.p_filesz, size));
            if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
            CoreSegment seg;
            seg.vaddr = ph.p_vaddr;
            seg.memsz = ph.p_memsz;
            seg.offset = ph.p_offset;
            seg.filesz = std::min(ph.p_filesz, ph.p_memsz);
            seg.present = ph.p_offset >= size ? 0 : std::min(seg.filesz, size - ph.p_offset);
            seg.flags = ph.p_flags;
            core_.segments_.push_back(seg);
        }
        if (needed > size) {
            if (!core_.options_.allow_truncated)
                return fail(truncated(path(), needed, size) + "; --allow-truncated reads what is there");
            core_.warnings_.push_back(truncated(path(), needed, size) + "; the missing memory is unreadable");
        }
        std::sort(core_.segments_.begin(), core_.segments_.end(),
                  [](const auto& a, const auto& b) { return a.vaddr < b.vaddr; });
        fit_segments();
        return {};
    }

    // Segments that overlap the next one or run past the user address space (a damaged p_memsz
    // or p_vaddr) are cut to fit, with one warning: every address then has one segment.
    void fit_segments() {
        auto& segs = core_.segments_;
        size_t cut = 0;
        for (size_t i = 0; i < segs.size(); ++i) {
            CoreSegment& seg = segs[i];
            uint64_t limit = seg.vaddr == kVsyscallPage ? seg.vaddr + 4096 : kUserSpaceEnd;
            if (i + 1 < segs.size()) limit = std::min(limit, segs[i + 1].vaddr);
            if (seg.vaddr >= limit) {
                seg.memsz = 0;
            } else if (seg.memsz > limit - seg.vaddr) {
                seg.memsz = limit - seg.vaddr;
            } else {
                continue;
            }
            seg.filesz = std::min(seg.filesz, seg.memsz);
            seg.present = std::min(seg.present, seg.filesz);
            ++cut;
        }
        std::erase_if(segs, [](const CoreSegment& seg) { return seg.memsz == 0; });
        if (cut)
            core_.warnings_.push_back(path() + " is damaged: " + std::to_string(cut) +
                                      " memory segment(s) overlap others or lie outside the address space; "
                                      "they were cut to fit");
    }

    // NT_FILE entries are cut the same way: one file per address, so reads through a damaged
    // note never come from a file the address was not mapped from.
    void fit_files() {
        auto& files = core_.files_;
        size_t cut = 0;
        for (size_t i = 0; i < files.size(); ++i) {
            elf::FileMapping& file = files[i];
            uint64_t limit = kUserSpaceEnd;
            if (i + 1 < files.size()) limit = std::min(limit, files[i + 1].start);
            if (file.end <= limit) continue;
            file.end = std::max(file.start, limit);
            ++cut;
        }
        std::erase_if(files, [](const elf::FileMapping& file) { return file.end == file.start; });
        if (cut)
            core_.warnings_.push_back(path() + " is damaged: " + std::to_string(cut) +
                                      " file mapping(s) in its NT_FILE note overlap others or lie outside the "
                                      "address space; they were cut to fit");
    }

    Expected<void> take_notes(const Elf64_Phdr& ph) {
        auto notes = elf::parse_notes(bytes().substr(ph.p_offset, ph.p_filesz), 4);
        if (!notes) return fail(path() + " has malformed notes: " + notes.error().message);
        for (const auto& note : *notes) {
            auto done = take_note(note);
            if (!done) return fail(path() + " has malformed notes: " + done.error().message);
        }
        return {};
    }

    Expected<void> take_note(const elf::Note& note) {
        if (note.name == kSnagNoteName && note.type == kSnagParatextType) {
            core_.paratext_ = std::string(note.desc);
            return {};
        }
        // The FP/SSE notes follow the NT_PRSTATUS of their thread; the XSAVE area wins.
        if (note.name == "LINUX" && note.type == NT_X86_XSTATE && !core_.threads_.empty()) {
            if (auto v = decode_xsave(note.desc)) core_.threads_.back().vector = *v;
            else core_.warnings_.push_back(path() + ": " + v.error().message);
            return {};
        }
        if (note.name != "CORE") return {};
        switch (note.type) {
            case NT_FPREGSET: {
                if (core_.threads_.empty() || core_.threads_.back().vector) return {};
                if (auto v = decode_fxsave(note.desc)) core_.threads_.back().vector = *v;
                else core_.warnings_.push_back(path() + ": " + v.error().message);
                return {};
            }
            case NT_PRSTATUS: {
                auto thread = decode_prstatus(note.desc);
                if (!thread) return std::unexpected(thread.error());
                core_.threads_.push_back(*thread);
                return {};
            }
            case NT_PRPSINFO:
                core_.psinfo_ = decode_psinfo(note.desc);
                return decode_prpsinfo(note.desc, core_.process_);
            case NT_SIGINFO: {
                int sender_uid = -1;
                auto signal = decode_siginfo(note.desc, &sender_uid);
                if (!signal) return std::unexpected(signal.error());
                if (!core_.signal_) {
                    core_.signal_ = *signal;
                    core_.signal_sender_uid_ = sender_uid;
                    core_.siginfo_.emplace();
                    std::memcpy(&*core_.siginfo_, note.desc.data(), sizeof(siginfo_t));  // decode checked the size
                }
                return {};
            }
            case NT_AUXV: core_.auxv_ = decode_auxv(note.desc); return {};
            case NT_FILE: {
                auto files = elf::parse_nt_file(note.desc);
                if (!files) return std::unexpected(files.error());
                core_.files_ = std::move(*files);
                return {};
            }
            default: return {};
        }
    }

    void finish() {
        std::sort(core_.files_.begin(), core_.files_.end(),
                  [](const auto& a, const auto& b) { return a.start < b.start; });
        fit_files();
        build_mappings();
        auto& threads = core_.threads_;
        bool any_times = std::any_of(threads.begin(), threads.end(),
                                     [](const Thread& t) { return t.user_seconds > 0 || t.system_seconds > 0; });
        for (auto& t : threads) t.has_cpu_times = any_times;
        if (threads.empty()) core_.warnings_.push_back(path() + " records no threads (no NT_PRSTATUS notes)");
        if (core_.process_.pid == 0 && !threads.empty()) core_.process_.pid = threads.front().tid;
        if (!core_.signal_ && !threads.empty() && threads.front().pending_signal != 0)
            core_.signal_ = SignalInfo{.signo = threads.front().pending_signal};
        find_executable();
        if (core_.paratext_ && !apply_paratext(*core_.paratext_, core_.process_, threads))
            core_.warnings_.push_back(path() + ": snag's paratext note is not valid JSON; ignored");
        check_build_ids();
    }

    void build_mappings() {
        for (const auto& seg : core_.segments_) {
            Mapping m;
            m.start = seg.vaddr;
            m.end = seg.vaddr + seg.memsz;
            m.perms = perms_of(seg.flags);
            if (const auto* file = core_.file_at(seg.vaddr)) {
                m.path = file->path;
                m.file_offset = file->file_offset + (seg.vaddr - file->start);
            }
            core_.mappings_.push_back(m);
        }
        // NT_FILE ranges without a PT_LOAD still tell where files were mapped.
        for (const auto& file : core_.files_) {
            if (core_.segment_at(file.start)) continue;
            core_.mappings_.push_back({.start = file.start, .end = file.end, .file_offset = file.file_offset,
                                       .perms = "r--p", .path = file.path});
        }
        std::sort(core_.mappings_.begin(), core_.mappings_.end(),
                  [](const auto& a, const auto& b) { return a.start < b.start; });
    }

    uint64_t auxv_value(uint64_t type) const {
        for (const auto& e : core_.auxv_)
            if (e.type == type) return e.value;
        return 0;
    }

    // The program headers (AT_PHDR) lie in the executable's mapping; names are the fallback.
    void find_executable() {
        const auto& files = core_.files_;
        const elf::FileMapping* exe = nullptr;
        if (uint64_t phdr = auxv_value(AT_PHDR)) exe = core_.file_at(phdr);
        std::string execfn;
        if (uint64_t at = auxv_value(AT_EXECFN)) {
            char buf[4096];
            size_t got = core_.read_recorded(at, buf, sizeof buf);
            execfn.assign(buf, strnlen(buf, got));
        }
        for (size_t i = 0; !exe && i < files.size(); ++i)
            if (!execfn.empty() && (files[i].path == execfn || basename_of(files[i].path) == basename_of(execfn)))
                exe = &files[i];
        const std::string& fname = core_.process_.name;
        for (size_t i = 0; !exe && i < files.size(); ++i)
            if (!fname.empty() && basename_of(files[i].path).rfind(fname, 0) == 0) exe = &files[i];
        if (!exe && !files.empty()) exe = &files.front();
        if (exe) {
            core_.exe_recorded_ = exe->path;
            core_.process_.executable = exe->path;
        }
    }

    void check_build_ids() {
        std::vector<std::string> seen;
        for (const auto& file : core_.files_) {
            if (file.file_offset != 0 || std::find(seen.begin(), seen.end(), file.path) != seen.end()) continue;
            seen.push_back(file.path);
            const FileMap* local = core_.open_mapped_file(file.path);
            if (!local) {
                core_.warnings_.push_back(file.path + " (mapped by the core) was not found; its read-only memory is unavailable");
                ++core_.files_astray_;
                continue;
            }
            elf::ReadFn recorded = [this](uint64_t at, void* out, size_t len) {
                return core_.read_recorded(at, out, len);
            };
            auto in_core = elf::build_id_in_memory(recorded, file.start);
            if (!in_core) continue;
            auto on_disk = elf::build_id_in_file(local->bytes());
            if (on_disk && *on_disk != *in_core) ++core_.files_astray_;
            if (on_disk && *on_disk != *in_core)
                core_.warnings_.push_back(core_.local_path(file.path) + " has build-id " + *on_disk +
                                          " but the core recorded " + *in_core + "; symbols and code may not match");
        }
    }

    CoreTarget& core_;
};

Expected<std::unique_ptr<Target>> load_core(const std::string& path, FileMap core, const TargetOptions& options,
                                            std::vector<std::string> warnings) {
    auto target = std::make_unique<CoreTarget>(path, std::move(core), options);
    CoreLoader loader(*target, std::move(warnings));
    if (auto done = loader.load(); !done) return std::unexpected(done.error());
    return std::unique_ptr<Target>(std::move(target));
}

Expected<std::unique_ptr<Target>> open_core(const std::string& path, const TargetOptions& options) {
    auto file = FileMap::open(path);
    if (!file) return std::unexpected(file.error());
    if (file->size() == 0) return fail(path + " is empty, not a core file");
    auto format = detect_compression(file->bytes().substr(0, 4));
    if (format == Compression::None) return load_core(path, std::move(*file), options, {});
    std::vector<std::string> warnings;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("cannot open " + path + ": " + std::strerror(errno));
    auto plain = decompress_to_temp(fd, format, path, warnings);
    ::close(fd);
    if (!plain) return std::unexpected(plain.error());
    auto map = FileMap::adopt(*plain, path);
    if (!map) return std::unexpected(map.error());
    if (map->size() == 0) return fail(path + " decompresses to nothing, not a core file");
    return load_core(path, std::move(*map), options, std::move(warnings));
}

}  // namespace snag
