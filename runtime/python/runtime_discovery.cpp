#include "python/runtime_discovery.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "python/dwarf_layout.hpp"
#include "python/lock_layout.hpp"
#include "python/memory.hpp"

namespace snag::python {
namespace {

constexpr int kOldestMinor = 6, kNewestMinor = 15;
constexpr std::string_view kNoInterpreter = "no CPython interpreter found";

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int minor_of_name(const std::string& path);

bool python2_name(const std::string& path) {
    static const std::regex pattern(R"((?:^|/)(?:lib)?python2\.7[^/]*$)");
    return std::regex_search(path, pattern);
}

// The module holding an address; .bss past the file mapping falls back to the Python module.
std::string module_of(Symbolizer& symbols, uint64_t address) {
    if (const Module* m = symbols.module_at(address)) return m->path;
    const Module* best = nullptr;
    for (const auto& m : symbols.modules()) {
        if (m.start > address) continue;
        bool python = minor_of_name(m.path) != 0 || python2_name(m.path);
        if (!best || (python && m.start >= best->start)) best = python ? &m : best;
    }
    if (best) return best->path;
    return symbols.modules().empty() ? "" : symbols.modules().front().path;
}

// A thread state's interp pointer must lead back to the interpreter it is listed under.
bool interpreter_checks_out(Memory& mem, const Layout& l, uint64_t interp) {
    if (!interp) return false;
    uint64_t ts = mem.ptr(interp + l.is_threads_head);
    if (!ts) return mem.u64(interp + l.is_next).has_value();  // no threads yet: readable is all
    return mem.ptr(ts + l.ts_interp) == interp;
}

bool runtime_checks_out(Memory& mem, const Layout& l, uint64_t interp_head_at) {
    return interpreter_checks_out(mem, l, mem.ptr(interp_head_at));
}

// PyInterpreterState_Head is "mov rax,[rip+disp32]; ret" in 3.6: it reveals the static interp_head.
uint64_t interp_head_from_code(Target& target, uint64_t function) {
    std::array<uint8_t, 8> code{};
    if (!target.read_exact(function, code.data(), code.size())) return 0;
    if (code[0] != 0x48 || code[1] != 0x8b || code[2] != 0x05 || code[7] != 0xc3) return 0;
    int32_t disp;
    std::memcpy(&disp, code.data() + 3, 4);
    return function + 7 + disp;
}

struct Candidate {
    uint64_t runtime = 0;
    std::string found_by;
};

// The main executable and any libpython, to name in errors and to scan.
std::vector<const Module*> python_modules(Symbolizer& symbols) {
    std::vector<const Module*> out;
    for (const auto& m : symbols.modules()) {
        if (minor_from_file_name(m.path) || &m == &symbols.modules().front()) out.push_back(&m);
    }
    return out;
}

int minor_from_py_version(Target& target, Symbolizer& symbols) {
    auto at = symbols.address_of("Py_Version");
    if (!at) return 0;
    auto v = target.read_u64(*at);
    if (!v || ((*v >> 24) & 0xff) != 3) return 0;
    return static_cast<int>((*v >> 16) & 0xff);
}

std::string micro_version(Target& target, Symbolizer& symbols, int minor) {
    if (auto at = symbols.address_of("Py_Version")) {
        if (auto v = target.read_u64(*at); v && ((*v >> 16) & 0xff) == static_cast<uint64_t>(minor))
            return version_string(*v);
    }
    return "3." + std::to_string(minor);
}

// Last resort: a writable mapping of a Python module that validates as _PyRuntime. Only where
// something says Python is there (a python file name, the C API's symbols): the validation is
// loose enough that a native program's data can pass it.
Candidate scan_for_runtime(Target& target, Memory& mem, Symbolizer& symbols, std::vector<int> minors) {
    bool has_c_api = symbols.address_of("Py_Initialize").has_value();
    for (const Module* m : python_modules(symbols)) {
        if (!has_c_api && !minor_from_file_name(m->path)) continue;
        for (const auto& map : target.mappings()) {
            if (map.path != m->path || map.perms.size() < 2 || map.perms[1] != 'w') continue;
            uint64_t end = std::min<uint64_t>(map.end, map.start + (8ull << 20));
            for (uint64_t at = map.start; at + 32 <= end; at += 8) {
                char cookie[8];
                if (mem.read(at, cookie, 8) && std::memcmp(cookie, kDebugCookie, 8) == 0)
                    return {at, "_Py_DebugOffsets cookie scan"};
            }
            for (int minor : minors) {
                auto l = builtin_layout(minor);
                if (!l || l->rt_interpreters_head < 0) continue;
                for (uint64_t at = map.start; at + 4096 <= end; at += 8)
                    if (mem.ptr(at + l->rt_interpreters_head) &&
                        runtime_checks_out(mem, *l, at + l->rt_interpreters_head))
                        return {at, "memory scan for _PyRuntime"};
            }
        }
    }
    return {};
}

std::vector<int> minor_order(int hint) {
    std::vector<int> out;
    if (hint) out.push_back(hint);
    for (int m = kNewestMinor; m >= kOldestMinor; --m)
        if (m != hint) out.push_back(m);
    return out;
}

// The table, or DWARF over it: preferred when asked, else only when the table fails.
std::optional<Layout> checked_layout(Memory& mem, Symbolizer& symbols, const std::string& module,
                                     std::optional<Layout> table, uint64_t interp_head_at_offset_base,
                                     bool prefer_dwarf, bool is_runtime) {
    if (!table) return std::nullopt;
    auto head_at = [&](const Layout& l) {
        return is_runtime ? interp_head_at_offset_base + l.rt_interpreters_head : interp_head_at_offset_base;
    };
    if (!prefer_dwarf && runtime_checks_out(mem, *table, head_at(*table))) return table;
    Layout dwarf = *table;
    if (apply_dwarf_layout(symbols, module, dwarf) > 0 && runtime_checks_out(mem, dwarf, head_at(dwarf)))
        return dwarf;
    if (prefer_dwarf && runtime_checks_out(mem, *table, head_at(*table))) return table;
    return std::nullopt;
}

// The patch version of "3.13.5"; -1 for "3.13".
int micro_of(const std::string& version) {
    auto last = version.rfind('.');
    if (last == std::string::npos || version.find('.') == last) return -1;
    return std::atoi(version.c_str() + last + 1);
}

// Lock layouts are checked per object against tp_basicsize; DWARF (a second to index) is read
// when asked for, or when no known lock layout is for this build.
PythonRuntime with_lock_layout(Symbolizer& symbols, PythonRuntime rt, bool prefer_dwarf) {
    rt.layout.micro = micro_of(rt.version);
    if (prefer_dwarf || !known_lock_layouts_cover(rt.layout)) apply_dwarf_lock_layout(symbols, rt.module_path, rt.layout);
    return rt;
}

Expected<PythonRuntime> finish_with_layout(Target& target, Memory& mem, Symbolizer& symbols,
                                           PythonRuntime rt, int hint, bool prefer_dwarf) {
    // 3.13+: the runtime describes itself.
    std::string head = mem.read_bytes(rt.runtime, kDebugOffsetsMaxSize);
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(head.data()), head.size());
    if (auto info = parse_debug_offsets_header(bytes)) {
        auto l = layout_from_debug_offsets(bytes);
        if (!l) return fail(l.error().message + " (in " + rt.module_path + ")");
        rt.layout = *l;
        // Asked for: the module's DWARF checks (and replaces) the fields it describes.
        if (prefer_dwarf) apply_dwarf_layout(symbols, rt.module_path, rt.layout);
        rt.version = full_version_string(info->version_hex);
        rt.interp_head_at = rt.runtime + l->rt_interpreters_head;
        return with_lock_layout(symbols, rt, prefer_dwarf);
    }
    for (int minor : minor_order(hint)) {
        if (minor < 7 || minor >= 13) continue;  // 3.6 has no _PyRuntime; 3.13+ has the cookie
        if (hint && minor != hint) continue;
        auto l = checked_layout(mem, symbols, rt.module_path, builtin_layout(minor), rt.runtime,
                                prefer_dwarf, true);
        if (!l) continue;
        rt.layout = *l;
        rt.version = micro_version(target, symbols, minor);
        rt.interp_head_at = rt.runtime + rt.layout.rt_interpreters_head;
        if (rt.layout.rt_tstate_current >= 0) rt.tstate_current_at = rt.runtime + rt.layout.rt_tstate_current;
        if (rt.layout.rt_gil_locked >= 0) {
            rt.gil_locked_at = rt.runtime + rt.layout.rt_gil_locked;
            rt.gil_last_holder_at = rt.runtime + rt.layout.rt_gil_last_holder;
        }
        if (rt.layout.rt_gc_collecting >= 0) rt.gc_collecting_at = rt.runtime + rt.layout.rt_gc_collecting;
        return with_lock_layout(symbols, rt, prefer_dwarf);
    }
    if (hint && (hint < kOldestMinor || hint > kNewestMinor))
        return fail("Python 3." + std::to_string(hint) + " in " + rt.module_path +
                    " is not supported (snag reads CPython 3." +
                    std::to_string(kOldestMinor) + " to 3." + std::to_string(kNewestMinor) + ")");
    return fail("found _PyRuntime in " + rt.module_path + " but none of snag's layouts (3." +
                std::to_string(kOldestMinor) + "–3." + std::to_string(kNewestMinor) +
                ") matches its thread states");
}

// 3.6 and 2.7 have no _PyRuntime: statics found through symbols or through
// PyInterpreterState_Head.
std::optional<PythonRuntime> find_static_interpreter(Target& target, Memory& mem, Symbolizer& symbols,
                                                     const Layout& table, bool prefer_dwarf) {
    uint64_t head = symbols.address_of("interp_head").value_or(0);
    std::string how = "interp_head symbol";
    if (!head) {
        if (auto fn = symbols.address_of("PyInterpreterState_Head")) head = interp_head_from_code(target, *fn);
        how = "PyInterpreterState_Head code";
    }
    if (!head) return std::nullopt;
    PythonRuntime rt;
    rt.module_path = module_of(symbols, head);
    auto l = checked_layout(mem, symbols, rt.module_path, table, head, prefer_dwarf, false);
    if (!l) return std::nullopt;
    rt.layout = *l;
    rt.version = std::to_string(table.major) + "." + std::to_string(table.minor);
    rt.found_by = how;
    rt.interp_head_at = head;
    rt.tstate_current_at = symbols.address_of("_PyThreadState_Current").value_or(0);
    rt.gil_locked_at = symbols.address_of("gil_locked").value_or(0);
    rt.gil_last_holder_at = symbols.address_of("gil_last_holder").value_or(0);
    rt.gc_collecting_at = symbols.address_of("collecting").value_or(0);
    return with_lock_layout(symbols, rt, prefer_dwarf);
}

// Python 2: a libpython2.7/python2.7 module, or the str API that Python 3 renamed.
bool python2_present(Symbolizer& symbols) {
    for (const auto& m : symbols.modules())
        if (python2_name(m.path)) return true;
    return symbols.address_of("PyString_FromString").has_value();
}

std::string looked_for(Symbolizer& symbols) {
    std::string names;
    for (const Module* m : python_modules(symbols)) names += (names.empty() ? "" : ", ") + base_name(m->path);
    return "looked for _PyRuntime, _Py_DebugOffsets and interp_head in " +
           (names.empty() ? std::string("its modules") : names);
}

}  // namespace

namespace {
int minor_of_name(const std::string& path) { return minor_from_file_name(path); }
}  // namespace

bool python_absent(const Error& discovery_error) {
    return discovery_error.message.starts_with(kNoInterpreter);
}

int minor_from_file_name(const std::string& path) {
    static const std::regex pattern(R"((?:^|/)(?:lib)?python3\.(\d+)[dmu]*(?:\.so|$|[^/]*$))");
    std::smatch m;
    std::string name = base_name(path);
    if (!std::regex_search(name, m, pattern)) return 0;
    return std::stoi(m[1]);
}

Expected<PythonRuntime> find_python_runtime(Target& target, Symbolizer& symbols,
                                           const DiscoveryOptions& options) {
    const std::string& target_label = options.target_label;
    Memory mem(target);
    int hint = 0;
    Candidate c;
    if (auto at = symbols.address_of("_PyRuntime")) c = {*at, "_PyRuntime symbol"};
    if (c.runtime) hint = minor_from_file_name(module_of(symbols, c.runtime));
    if (!hint) hint = minor_from_py_version(target, symbols);
    if (!hint) {
        for (const Module* m : python_modules(symbols))
            if (int minor = minor_from_file_name(m->path)) { hint = minor; break; }
    }
    if (!c.runtime && hint == 0 && python2_present(symbols)) {
        if (auto rt = find_static_interpreter(target, mem, symbols, builtin_layout_27(), options.prefer_dwarf))
            return *rt;
    }
    if (!c.runtime && (hint == 6 || hint == 0)) {
        if (auto rt = find_static_interpreter(target, mem, symbols, *builtin_layout(6), options.prefer_dwarf))
            return *rt;
    }
    if (!c.runtime) c = scan_for_runtime(target, mem, symbols, minor_order(hint));
    if (!c.runtime) {
        std::string who = !target_label.empty() ? target_label
                          : target.kind() == TargetKind::Core ? "the core"
                                                              : "process " + std::to_string(target.process().pid);
        return fail(std::string(kNoInterpreter) + " in " + who + " (" + looked_for(symbols) + ")");
    }
    PythonRuntime rt;
    rt.runtime = c.runtime;
    rt.found_by = c.found_by;
    rt.module_path = module_of(symbols, c.runtime);
    return finish_with_layout(target, mem, symbols, rt, hint, options.prefer_dwarf);
}

}  // namespace snag::python
