// The Symbolizer over libdwfl: one Dwfl per target, modules reported from snag's own collection.
#include "symbols/symbolizer.hpp"

#include <cxxabi.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "symbols/debug_frame.hpp"
#include "symbols/dwarf_frames.hpp"
#include "symbols/inflated_debug.hpp"
#include "symbols/line_table.hpp"
#include "symbols/link_map.hpp"
#include "symbols/module_collection.hpp"
#include "symbols/plt_symbols.hpp"
#include "symbols/symbol_table.hpp"
#include "symbols/tail_calls.hpp"

namespace snag {

std::optional<uint64_t> Symbolizer::member_offset(std::string_view type, std::string_view member_path) {
    const TypeInfo* info = find_type(type);
    if (!info) return std::nullopt;
    return snag::member_offset(*info, member_path);
}

std::string demangle(const char* name) {
    if (!name) return {};
    if (name[0] != '_' || name[1] != 'Z') return name;
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status != 0 || !out) return name;
    std::string result(out);
    free(out);
    return result;
}

namespace {

// What libdwfl's callbacks get as a module's userdata.
struct DebugHook {
    const Module* module = nullptr;
    InflatedDebugFiles* inflated = nullptr;
};

// Serves the debug file module collection located, so what `snag` reports is what it uses
// (and no debuginfod round trips), with its DWARF already inflated. The dwz alt file is left
// to libdwfl's standard search.
int find_debuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                   const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                   char** debuginfo_file_name) {
    auto* hook = static_cast<DebugHook*>(*userdata);
    const Module* m = hook ? hook->module : nullptr;
    if (!m || m->debug_file.empty()) return -1;
    if (file_name && m->debug_file == file_name)
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                            debuglink_crc, debuginfo_file_name);
    int fd = hook->inflated->open(m->debug_file);
    if (fd >= 0) *debuginfo_file_name = strdup(m->debug_file.c_str());
    return fd;
}

int no_elf(Dwfl_Module*, void**, const char*, Dwarf_Addr, char**, Elf**) { return -1; }

const Dwfl_Callbacks kCallbacks = {
    .find_elf = no_elf,  // every module is reported with an open descriptor
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

// The vDSO exists only in the target's memory: hand libdwfl a copy through an anonymous file.
int vdso_descriptor(Target& target, const Module& m) {
    std::string image = read_module_image(target, m);
    if (image.empty()) return -1;
    int fd = memfd_create("snag-vdso", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (::pwrite(fd, image.data(), image.size(), 0) != static_cast<ssize_t>(image.size())) {
        ::close(fd);
        return -1;
    }
    return fd;
}

class DwflSymbolizer final : public Symbolizer {
public:
    DwflSymbolizer(Target& target, std::vector<Module> modules, const SymbolizerOptions& options)
        : modules_(std::move(modules)), dwfl_(dwfl_begin(&kCallbacks)) {
        inflated_.inflate_on_open(options.source_lines);
        inflated_.keep_location_lists(options.location_lists);
        location_lists_ = options.location_lists;
        entry_ = entry_point(target);
        report_modules(target);
        compute_lookup_order(target);
    }
    ~DwflSymbolizer() override {
        types_.reset();  // holds DIE pointers into the Dwfl
        tail_calls_.reset();
        if (dwfl_) dwfl_end(dwfl_);
    }

    const std::vector<Module>& modules() const override { return modules_; }

    const Module* module_at(uint64_t address) const override {
        auto it = std::upper_bound(modules_.begin(), modules_.end(), address,
                                   [](uint64_t a, const Module& m) { return a < m.start; });
        if (it == modules_.begin()) return nullptr;
        --it;
        return address < it->end ? &*it : nullptr;
    }

    std::vector<Symbol> symbolize(uint64_t pc, bool is_call_site) override {
        uint64_t key = pc ^ (is_call_site ? (uint64_t{1} << 63) : 0);
        if (auto it = memo_.find(key); it != memo_.end()) return it->second;
        uint64_t address = is_call_site && pc ? pc - 1 : pc;
        std::vector<Symbol> frames = lookup(pc, address);
        memo_.emplace(key, frames);
        return frames;
    }

    std::optional<uint64_t> address_of(std::string_view name) override {
        std::optional<uint64_t> local;
        for (size_t i : search_order(name)) {
            for (const auto& found : symbols_named(i, base_name(name))) {
                if (found.global) return found.address;
                if (!local) local = found.address;
            }
        }
        return local;
    }

    std::vector<uint64_t> addresses_of(std::string_view name) override {
        std::vector<uint64_t> out;
        for (size_t i : search_order(name))
            for (const auto& found : symbols_named(i, base_name(name)))
                if (std::find(out.begin(), out.end(), found.address) == out.end()) out.push_back(found.address);
        return out;
    }

    void prepare(const std::vector<uint64_t>& addresses) override {
        load_debug_files(addresses);
        read_lines_ahead(addresses);
    }

    void load_debug_files(const std::vector<uint64_t>& addresses) override {
        std::vector<std::string> files;
        for (uint64_t address : addresses) {
            const Module* m = module_at(address);
            if (!m || m->debug_file.empty()) continue;
            if (std::find(files.begin(), files.end(), m->debug_file) == files.end()) files.push_back(m->debug_file);
        }
        inflated_.prepare(files);
    }

    std::optional<Registers> debug_frame_caller(uint64_t lookup_pc, const Registers& regs,
                                                const std::function<bool(uint64_t, uint64_t*)>& read) override {
        Dwfl_Module* dm = dwfl_ ? dwfl_addrmodule(dwfl_, lookup_pc) : nullptr;
        return dm ? snag::debug_frame_caller(dm, lookup_pc, regs, read) : std::nullopt;
    }

    std::vector<uint64_t> tail_call_frames(uint64_t caller_return_pc, uint64_t callee_pc) override {
        return call_sites()->between(caller_return_pc, callee_pc);
    }

    TailCalls* call_sites() override {
        if (!tail_calls_)
            tail_calls_ = std::make_unique<TailCalls>(
                dwfl_, [this](std::string_view name) { return address_of(name); },
                [this](uint64_t pc) -> std::optional<uint64_t> {
                    auto at = symbol_at(pc);
                    return at ? std::optional(pc - at->second) : std::nullopt;
                });
        return tail_calls_.get();
    }

    Dwarf* dwarf_at(uint64_t address) override {
        if (!location_lists_) return nullptr;  // the copies lack the location lists locals need
        Dwfl_Module* dm = dwfl_ ? dwfl_addrmodule(dwfl_, address) : nullptr;
        Dwarf_Addr bias = 0;
        return dm ? dwfl_module_getdwarf(dm, &bias) : nullptr;
    }

    std::optional<std::pair<std::string, uint64_t>> symbol_at(uint64_t address) override {
        auto e = symbol_extent(address);
        if (!e) return std::nullopt;
        return std::pair{std::move(e->name), address - e->start};
    }

    std::optional<Extent> symbol_extent(uint64_t address) override {
        Dwfl_Module* dm = dwfl_ ? dwfl_addrmodule(dwfl_, address) : nullptr;
        if (!dm) return std::nullopt;
        GElf_Off offset = 0;
        GElf_Sym sym;
        const char* name = dwfl_module_addrinfo(dm, address, &offset, &sym, nullptr, nullptr, nullptr);
        if (!name || (sym.st_size ? offset >= sym.st_size : offset != 0)) return plt_stub_at(address);
        return Extent{demangle(std::string(unversioned(name)).c_str()), address - offset, sym.st_size};
    }

    const TypeInfo* find_type(std::string_view name) override {
        if (!types_) {
            // Link-map order: libpython's DWARF is searched before libc's for "PyThreadState".
            std::vector<size_t> order = search_order("");
            std::vector<std::string> paths;
            for (size_t i : order) paths.push_back(modules_[i].path);
            types_ = std::make_unique<TypeCatalog>(std::move(paths), [this, order](size_t i) -> Dwarf* {
                Dwfl_Module* dm = dwfl_modules_[order[i]];
                if (!dm) return nullptr;
                Dwarf_Addr bias;
                return dwfl_module_getdwarf(dm, &bias);
            });
        }
        return types_->find(name);
    }

private:
    // PLT stubs have no ELF symbol; gdb names them `getenv@plt` (symbols/plt_symbols.hpp).
    std::optional<Extent> plt_stub_at(uint64_t address) {
        const Module* m = module_at(address);
        if (!m) return std::nullopt;
        auto [it, fresh] = plt_stubs_.try_emplace(m);
        if (fresh) it->second = plt_stubs(*m);
        const auto& stubs = it->second;
        auto after = std::upper_bound(stubs.begin(), stubs.end(), address,
                                      [](uint64_t a, const PltStub& s) { return a < s.start; });
        if (after == stubs.begin() || address - std::prev(after)->start >= std::prev(after)->size) return std::nullopt;
        return Extent{std::prev(after)->name, std::prev(after)->start, std::prev(after)->size};
    }

    static std::optional<uint64_t> entry_point(Target& target) {
        for (const auto& entry : target.auxv())
            if (entry.type == AT_ENTRY) return entry.value;
        return std::nullopt;
    }

    void report_modules(Target& target) {
        dwfl_modules_.assign(modules_.size(), nullptr);
        hooks_.assign(modules_.size(), DebugHook{});
        if (!dwfl_) return;
        dwfl_report_begin(dwfl_);
        for (size_t i = 0; i < modules_.size(); ++i) {
            const Module& m = modules_[i];
            bool vdso = m.path == kVdsoPath;
            if (!vdso && m.local_path.empty()) continue;  // missing file: "??" in its module
            int fd = vdso ? vdso_descriptor(target, m) : ::open(m.local_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            const char* file = vdso ? kVdsoPath : m.local_path.c_str();
            // add_p_vaddr=true: base is the load bias itself (ignored for ET_EXEC).
            Dwfl_Module* dm = dwfl_report_elf(dwfl_, m.path.c_str(), file, fd, m.bias, true);
            if (!dm) {
                ::close(fd);
                continue;
            }
            void** userdata = nullptr;
            dwfl_module_info(dm, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
            hooks_[i] = DebugHook{&m, &inflated_};
            if (userdata) *userdata = &hooks_[i];
            dwfl_modules_[i] = dm;
        }
        dwfl_report_end(dwfl_, nullptr, nullptr);
    }

    std::vector<Symbol> lookup(uint64_t pc, uint64_t address) {
        Symbol outer;
        outer.module = module_at(address);
        Dwfl_Module* dm = dwfl_ ? dwfl_addrmodule(dwfl_, address) : nullptr;
        if (!dm) return {outer};
        GElf_Off offset = 0;
        GElf_Sym sym;
        bool mangled = false;
        if (const char* name = dwfl_module_addrinfo(dm, address, &offset, &sym, nullptr, nullptr, nullptr)) {
            mangled = name[0] == '_' && name[1] == 'Z';
            std::string_view chosen = unversioned(name);
            if (!mangled && outer.module)
                if (auto alias = table_of(outer.module - modules_.data()).public_name_at(address - offset); !alias.empty())
                    chosen = alias;
            outer.function = demangle(std::string(chosen).c_str());
            outer.offset = offset + (pc - address);
        }
        return frames_at(dm, address, pc, outer, mangled, known_lines_);
    }

    // One pass over each unit's line program for all of a report's addresses (as return
    // addresses and as exact pcs), instead of libdw sorting every row of every unit touched.
    void read_lines_ahead(std::vector<uint64_t> pcs) {
        std::sort(pcs.begin(), pcs.end());
        pcs.erase(std::unique(pcs.begin(), pcs.end()), pcs.end());
        struct Unit {
            Dwarf_Die* die = nullptr;
            Dwarf_Addr bias = 0;
            std::vector<uint64_t> addresses;  // runtime
        };
        std::unordered_map<const void*, Unit> units;
        for (uint64_t pc : pcs) {
            for (uint64_t address : {pc, pc - 1}) {
                if (!pc || known_lines_.at.count(address)) continue;
                Dwfl_Module* dm = dwfl_ ? dwfl_addrmodule(dwfl_, address) : nullptr;
                Dwarf_Addr bias = 0;
                Dwarf_Die* die = dm ? dwfl_module_addrdie(dm, address, &bias) : nullptr;
                if (!die) continue;
                Unit& unit = units[die->addr];
                unit.die = die;
                unit.bias = bias;
                unit.addresses.push_back(address);
            }
        }
        for (auto& [key, unit] : units) {
            std::vector<uint64_t> dwarf_addresses;
            for (uint64_t a : unit.addresses) dwarf_addresses.push_back(a - unit.bias);
            auto lines = read_unit_lines(unit.die, dwarf_addresses);
            if (!lines) continue;  // libdw answers these one by one
            for (size_t i = 0; i < unit.addresses.size(); ++i) known_lines_.at[unit.addresses[i]] = lines->at[i];
            known_lines_.files[key] = std::move(lines->files);
        }
    }

    static std::string_view base_name(std::string_view name) {
        auto bang = name.find('!');
        return bang == std::string_view::npos ? name : name.substr(bang + 1);
    }

    static bool module_matches(const Module& m, std::string_view filter) {
        auto slash = m.path.rfind('/');
        std::string_view file = std::string_view(m.path).substr(slash == std::string::npos ? 0 : slash + 1);
        return file.starts_with(filter) || m.path == filter;
    }

    // ld.so's lookup order (link map: executable, then libraries), so interposition resolves as
    // in the process; then whatever the link map lacks (vDSO, cores without r_debug) by address.
    std::vector<size_t> search_order(std::string_view name) const {
        auto bang = name.find('!');
        std::string_view filter = bang == std::string_view::npos ? std::string_view() : name.substr(0, bang);
        std::vector<size_t> order;
        auto wanted = [&](size_t i) {
            return (filter.empty() || module_matches(modules_[i], filter)) &&
                   std::find(order.begin(), order.end(), i) == order.end();
        };
        for (size_t i : lookup_order_)
            if (wanted(i)) order.push_back(i);
        for (size_t i = 0; i < modules_.size(); ++i)
            if (wanted(i)) order.push_back(i);
        return order;
    }

    // Module indexes in link-map order; the executable (holding AT_ENTRY) leads even without one.
    void compute_lookup_order(Target& target) {
        const Module* exe = entry_ ? module_at(*entry_) : nullptr;
        if (exe) lookup_order_.push_back(exe - modules_.data());
        for (uint64_t bias : link_map_biases(target))
            for (size_t i = 0; i < modules_.size(); ++i)
                if (modules_[i].bias == bias && &modules_[i] != exe &&
                    std::find(lookup_order_.begin(), lookup_order_.end(), i) == lookup_order_.end())
                    lookup_order_.push_back(i);
    }

    SymbolTable& table_of(size_t module) {
        auto& table = symbol_tables_[module];
        if (!table) table = std::make_unique<SymbolTable>(dwfl_modules_[module]);
        return *table;
    }

    const std::vector<NamedAddress>& symbols_named(size_t module, std::string_view name) {
        return table_of(module).named(name);
    }

    std::vector<Module> modules_;
    Dwfl* dwfl_ = nullptr;
    std::vector<Dwfl_Module*> dwfl_modules_;  // parallel to modules_; nullptr when not loaded
    std::vector<DebugHook> hooks_;             // parallel to modules_
    std::map<const Module*, std::vector<PltStub>> plt_stubs_;  // filled on first lookup per module
    InflatedDebugFiles inflated_;              // debug files handed to libdwfl
    bool location_lists_ = false;              // SymbolizerOptions::location_lists
    std::optional<uint64_t> entry_;
    std::vector<size_t> lookup_order_;  // link-map order of module indexes
    std::unordered_map<uint64_t, std::vector<Symbol>> memo_;
    KnownLines known_lines_;
    std::unordered_map<size_t, std::unique_ptr<SymbolTable>> symbol_tables_;
    std::unique_ptr<TypeCatalog> types_;
    std::unique_ptr<TailCalls> tail_calls_;
};

}  // namespace

Expected<std::unique_ptr<Symbolizer>> make_symbolizer(Target& target, const SymbolizerOptions& options) {
    elf_version(EV_CURRENT);
    auto symbolizer = std::make_unique<DwflSymbolizer>(target, collect_modules(target), options);
    return std::unique_ptr<Symbolizer>(std::move(symbolizer));
}

}  // namespace snag
