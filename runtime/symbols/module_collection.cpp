#include "symbols/module_collection.hpp"

#include <elf.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "symbols/debuginfod.hpp"
#include "symbols/elf_facts.hpp"

namespace snag {

const char* to_string(DebugSource source) {
    switch (source) {
    case DebugSource::None: return "none";
    case DebugSource::Embedded: return "embedded";
    case DebugSource::BuildIdDir: return "build-id";
    case DebugSource::DebugLink: return "debuglink";
    case DebugSource::Debuginfod: return "debuginfod";
    }
    return "none";
}

namespace {

constexpr std::string_view kDeleted = " (deleted)";

bool exists(const std::string& path) { return !path.empty() && ::access(path.c_str(), R_OK) == 0; }

// Prefers the target's view (sysroot, /proc/PID/root) and falls back to this machine's path.
std::string find_file(Target& target, const std::string& path) {
    std::string found = target.local_path(path);
    if (!found.empty()) return found;
    return exists(path) ? path : std::string();
}

std::string local_file_of(Target& target, const std::string& path) {
    std::string local = target.local_path(path);
    if (local.empty() && path.ends_with(kDeleted))
        local = target.local_path(path.substr(0, path.size() - kDeleted.size()));
    return local;
}

std::string dirname_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// gdb's debug-file-directory: where -dbg packages install (an empty directory turns them off).
std::string debug_directory() {
    const char* dir = getenv("SNAG_DEBUG_FILE_DIRECTORY");
    std::string out = dir && *dir ? dir : "/usr/lib/debug";
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

// A separate debug file describes one build: with another build-id its addresses and CFI would
// be wrong, so it is refused (gdb does the same), and the user told which ids differ.
bool same_build(Module& m, const std::string& debug_file) {
    auto facts = read_elf_facts(debug_file);
    if (!facts || facts->build_id.empty() || m.build_id.empty() || facts->build_id == m.build_id) return true;
    m.debug_warning = "debug file " + debug_file + " has build-id " + facts->build_id + " but " + m.path +
                      " has build-id " + m.build_id + "; not used";
    return false;
}

// .gnu_debuglink: next to the file, in its .debug/ subdirectory, under DEBUGDIR/<recorded dir>.
bool locate_debug_link(Target& target, Module& m, const ElfFacts& facts, const std::string& debug_dir) {
    if (facts.debuglink.empty() || m.local_path.empty()) return false;
    std::string recorded_dir = dirname_of(m.path);
    std::string local_dir = dirname_of(m.local_path);
    const std::string candidates[] = {
        local_dir + "/" + facts.debuglink,
        local_dir + "/.debug/" + facts.debuglink,
        debug_dir + recorded_dir + "/" + facts.debuglink,
    };
    for (const auto& candidate : candidates) {
        std::string found = find_file(target, candidate);
        if (found.empty() || found == m.local_path || !same_build(m, found)) continue;
        m.debug_source = DebugSource::DebugLink;
        m.debug_file = found;
        return true;
    }
    return false;
}

// Last, as gdb: ask the debuginfod servers (none unless $DEBUGINFOD_URLS names one).
void fetch_debug_file(Module& m) {
    DebuginfodFetch fetched = debuginfod_debug_file(m.build_id, m.path);
    if (!fetched.warning.empty() && m.debug_warning.empty()) m.debug_warning = fetched.warning;
    if (fetched.path.empty() || !same_build(m, fetched.path)) return;
    m.debug_source = DebugSource::Debuginfod;
    m.debug_file = fetched.path;
}

// Search order of gdb and libdwfl: the file itself, the build-id tree, .gnu_debuglink, debuginfod.
void locate_debug_info(Target& target, Module& m, const ElfFacts& facts) {
    if (facts.has_debug_info) {
        m.debug_source = DebugSource::Embedded;
        m.debug_file = m.local_path;
        return;
    }
    const std::string debug_dir = debug_directory();
    if (m.build_id.size() > 2) {
        std::string by_id = debug_dir + "/.build-id/" + m.build_id.substr(0, 2) + "/" + m.build_id.substr(2) + ".debug";
        if (std::string found = find_file(target, by_id); !found.empty() && same_build(m, found)) {
            m.debug_source = DebugSource::BuildIdDir;
            m.debug_file = found;
            return;
        }
    }
    if (locate_debug_link(target, m, facts, debug_dir)) return;
    fetch_debug_file(m);
}

constexpr uint64_t kMaxVdsoBytes = 1 << 20;          // real vDSOs are two or three pages
constexpr uint64_t kMaxModuleImage = uint64_t{1} << 28;  // read_module_image copies no more

struct FileMappings {
    uint64_t start = UINT64_MAX;
    uint64_t end = 0;
    std::optional<uint64_t> header;  // lowest mapping of file offset 0: where the ELF header is
};

std::optional<Module> module_from(Target& target, const std::string& path, const FileMappings& maps) {
    if (!maps.header) return std::nullopt;
    Module m;
    m.path = path;
    m.start = maps.start;
    m.end = maps.end;
    std::string local = local_file_of(target, path);
    std::optional<ElfFacts> file = local.empty() ? std::nullopt : read_elf_facts(local);
    std::optional<ElfFacts> memory = read_elf_facts(target, *maps.header);
    if (!file && !memory) return std::nullopt;  // not an ELF file (data file, font, locale archive)
    if (file) m.local_path = local;
    // The runtime image decides the bias; the file decides it only when memory is unreadable.
    const ElfFacts& layout = memory ? *memory : *file;
    m.bias = layout.is_exec ? 0 : *maps.header - layout.first_load_vaddr;
    m.recorded_build_id = memory ? memory->build_id : std::string();
    m.build_id = file ? file->build_id : m.recorded_build_id;
    m.file_matches = file && (m.recorded_build_id.empty() || m.recorded_build_id == m.build_id);
    if (file) locate_debug_info(target, m, *file);
    return m;
}

std::optional<uint64_t> auxv_value(Target& target, uint64_t type) {
    for (const auto& entry : target.auxv())
        if (entry.type == type) return entry.value;
    return std::nullopt;
}

// The vDSO has no file: cores list it only through AT_SYSINFO_EHDR, live maps call it [vdso].
std::optional<Module> vdso_module(Target& target) {
    std::optional<uint64_t> start = auxv_value(target, AT_SYSINFO_EHDR);
    const Mapping* mapping = nullptr;
    for (const auto& m : target.mappings()) {
        if ((start && m.start <= *start && *start < m.end) || (!start && m.path == kVdsoPath)) {
            mapping = &m;
            break;
        }
    }
    if (!start && mapping) start = mapping->start;
    if (!start || *start > UINT64_MAX - kMaxVdsoBytes) return std::nullopt;
    auto facts = read_elf_facts(target, *start);
    if (!facts) return std::nullopt;
    Module m;
    m.path = kVdsoPath;
    m.start = *start;
    m.bias = *start - facts->first_load_vaddr;
    uint64_t image_end = (m.bias + facts->image_end + 4095) & ~uint64_t{4095};
    // A damaged core can stretch a segment (or the image's own headers) over the vDSO: clamp.
    uint64_t end = mapping ? std::max(mapping->end, image_end) : image_end;
    m.end = std::clamp(end, *start + 4096, *start + kMaxVdsoBytes);
    m.build_id = m.recorded_build_id = facts->build_id;
    m.file_matches = true;  // the image in memory is the module itself
    locate_debug_info(target, m, *facts);
    return m;
}

}  // namespace

std::vector<Module> collect_modules(Target& target) {
    std::map<std::string, FileMappings> by_path;
    for (const auto& mapping : target.mappings()) {
        if (mapping.path.empty() || mapping.path.front() != '/') continue;
        FileMappings& f = by_path[mapping.path];
        f.start = std::min(f.start, mapping.start);
        f.end = std::max(f.end, mapping.end);
        if (mapping.file_offset == 0 && (!f.header || mapping.start < *f.header)) f.header = mapping.start;
    }
    std::vector<Module> modules;
    for (const auto& [path, maps] : by_path)
        if (auto m = module_from(target, path, maps)) modules.push_back(std::move(*m));
    if (auto vdso = vdso_module(target)) {
        bool covered = std::any_of(modules.begin(), modules.end(), [&](const Module& m) {
            return m.start <= vdso->start && vdso->start < m.end;
        });
        if (!covered) modules.push_back(std::move(*vdso));
    }
    std::sort(modules.begin(), modules.end(),
              [](const Module& a, const Module& b) { return a.start < b.start; });
    return modules;
}

std::string read_module_image(Target& target, const Module& module) {
    if (module.end <= module.start || module.end - module.start > kMaxModuleImage) return {};
    std::string image(module.end - module.start, '\0');
    size_t got = target.read(module.start, image.data(), image.size());
    image.resize(got);
    return image;
}

}  // namespace snag
