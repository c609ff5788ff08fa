#include "python/debug_offsets.hpp"

#include <cstring>
#include <sstream>
#include <vector>

namespace snag::python {
namespace {

// One section of the struct: its name and its uint64 fields in order. A section whose first
// field is "size" describes a CPython structure of that many bytes; its offsets lie inside it.
struct Section {
    const char* name;
    const char* fields;  // space-separated
};

struct Schema {
    uint64_t first_hex, last_hex;  // the versions it describes, inclusive
    const char* name;
    std::vector<Section> sections;
};

// Include/internal/pycore_debug_offsets.h (pycore_runtime.h in 3.13) at each version; the
// 3.14.10 and 3.15.2 entries were checked against the bytes in Debian's binaries
// (tests/unit/data/debug_offsets_*.hex).
const Section kRuntime{"runtime_state", "size finalizing interpreters_head"};
const Section kInterp313{"interpreter_state",
                         "size id next threads_head gc imports_modules sysdict builtins ceval_gil "
                         "gil_runtime_state gil_runtime_state_enabled gil_runtime_state_locked "
                         "gil_runtime_state_holder"};
const Section kInterp314{"interpreter_state",
                         "size id next threads_head threads_main gc imports_modules sysdict builtins "
                         "ceval_gil gil_runtime_state gil_runtime_state_enabled gil_runtime_state_locked "
                         "gil_runtime_state_holder code_object_generation tlbc_generation"};
const Section kThread313{"thread_state",
                         "size prev next interp current_frame thread_id native_thread_id "
                         "datastack_chunk status"};
const Section kThread315b1{"thread_state",
                           "size prev next interp current_frame base_frame last_profiled_frame "
                           "thread_id native_thread_id datastack_chunk status holds_gil gil_requested "
                           "current_exception exc_state"};
const Section kThread315{"thread_state",
                         "size prev next interp current_frame base_frame last_profiled_frame "
                         "last_profiled_frame_seq thread_id native_thread_id datastack_chunk status "
                         "holds_gil gil_requested current_exception exc_state"};
const Section kErrStackItem{"err_stackitem", "exc_value"};
const Section kFrame313{"interpreter_frame", "size previous executable instr_ptr localsplus owner"};
const Section kFrame314{"interpreter_frame",
                        "size previous executable instr_ptr localsplus owner stackpointer tlbc_index"};
const Section kCode313{"code_object",
                       "size filename name qualname linetable firstlineno argcount localsplusnames "
                       "localspluskinds co_code_adaptive"};
const Section kCode314{"code_object",
                       "size filename name qualname linetable firstlineno argcount localsplusnames "
                       "localspluskinds co_code_adaptive co_tlbc"};
const Section kObject{"pyobject", "size ob_type"};
const Section kType313{"type_object", "size tp_name tp_repr tp_flags"};
const Section kType315{"type_object", "size tp_name tp_repr tp_flags tp_basicsize tp_dictoffset"};
const Section kHeapType{"heap_type_object", "size ht_cached_keys"};
const Section kTuple{"tuple_object", "size ob_item ob_size"};
const Section kList{"list_object", "size ob_item ob_size"};
const Section kSet{"set_object", "size used table mask"};
const Section kDict{"dict_object", "size ma_keys ma_values"};
const Section kFloat{"float_object", "size ob_fval"};
const Section kLong{"long_object", "size lv_tag ob_digit"};
const Section kBytes{"bytes_object", "size ob_size ob_sval"};
const Section kUnicode313{"unicode_object", "size state length asciiobject_size"};
const Section kUnicode315{"unicode_object", "size state length asciiobject_size compactunicodeobject_size"};
const Section kGc313{"gc", "size collecting"};
const Section kGc315{"gc", "size collecting frame generation_stats_size generation_stats"};
const Section kGen{"gen_object", "size gi_name gi_iframe gi_frame_state"};
const Section kLlist{"llist_node", "next prev"};
const Section kDebugger{"debugger_support",
                        "eval_breaker remote_debugger_support remote_debugging_enabled "
                        "debugger_pending_call debugger_script_path debugger_script_path_size"};

std::vector<Section> sections_313() {
    return {kRuntime, kInterp313, kThread313, kFrame313, kCode313, kObject, kType313, kTuple, kList,
            kDict, kFloat, kLong, kBytes, kUnicode313, kGc313};
}

std::vector<Section> sections_314() {
    return {kRuntime, kInterp314, kThread313, kFrame314, kCode314, kObject, kType313, kTuple, kList,
            kSet, kDict, kFloat, kLong, kBytes, kUnicode313, kGc313, kGen, kLlist, kDebugger};
}

std::vector<Section> sections_315(const Section& thread) {
    return {kRuntime, kInterp314, thread, kErrStackItem, kFrame314, kCode314, kObject, kType315,
            kHeapType, kTuple, kList, kSet, kDict, kFloat, kLong, kBytes, kUnicode315, kGc315, kGen,
            kLlist, kDebugger};
}

// Finals are keyed by major.minor (the struct is stable across patch releases); pre-releases
// only by their exact hex, since alphas and betas changed it (3.15.0b4 added a field).
const std::vector<Schema>& schemas() {
    static const std::vector<Schema> all = {
        {0x030d00f0, 0x030d00f0, "3.13", sections_313()},
        {0x030d00c1, 0x030d00c3, "3.13", sections_313()},
        {0x030e00f0, 0x030e00f0, "3.14", sections_314()},
        {0x030e00c1, 0x030e00c3, "3.14", sections_314()},
        {0x030f00f0, 0x030f00f0, "3.15", sections_315(kThread315)},
        {0x030f00b4, 0x030f00c3, "3.15", sections_315(kThread315)},
        {0x030f00b1, 0x030f00b3, "3.15.0b1-b3", sections_315(kThread315b1)},
    };
    return all;
}

std::vector<std::string> split(const char* fields) {
    std::vector<std::string> out;
    std::istringstream in(fields);
    for (std::string f; in >> f;) out.push_back(f);
    return out;
}

// Sizes and offsets into other structures are not bounded by their section's size.
bool is_bounded_offset(const std::string& field) {
    bool a_size = field == "size" || (field.size() > 5 && field.ends_with("_size"));
    return !a_size && field != "gil_runtime_state_enabled";
}

bool is_final_release(uint64_t hex) { return ((hex >> 4) & 0xf) == 0xf; }

const Schema* schema_for(uint64_t hex) {
    for (const auto& s : schemas()) {
        bool same_minor = (hex >> 16) == (s.first_hex >> 16);
        if (is_final_release(hex) ? same_minor && is_final_release(s.first_hex)
                                  : hex >= s.first_hex && hex <= s.last_hex)
            return &s;
    }
    return nullptr;
}

uint64_t u64_at(std::span<const uint8_t> bytes, size_t offset) {
    uint64_t v = 0;
    std::memcpy(&v, bytes.data() + offset, 8);
    return v;
}

}  // namespace

std::string version_string(uint64_t hex) {
    return std::to_string((hex >> 24) & 0xff) + "." + std::to_string((hex >> 16) & 0xff) + "." +
           std::to_string((hex >> 8) & 0xff);
}

std::string full_version_string(uint64_t hex) {
    static const char* levels[] = {"a", "b", "rc"};
    uint64_t level = (hex >> 4) & 0xf;
    if (level < 0xa || level > 0xc) return version_string(hex);
    return version_string(hex) + levels[level - 0xa] + std::to_string(hex & 0xf);
}

std::string known_debug_offsets_versions() { return "3.13–3.15"; }

bool DebugOffsets::has(std::string_view section, std::string_view field) const {
    return get(section, field).has_value();
}

std::optional<uint64_t> DebugOffsets::get(std::string_view section, std::string_view field) const {
    std::string key;
    key.append(section).append(".").append(field);
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

int64_t DebugOffsets::offset(std::string_view section, std::string_view field) const {
    auto v = get(section, field);
    return v ? static_cast<int64_t>(*v) : -1;
}

std::optional<DebugOffsetsHeader> parse_debug_offsets_header(std::span<const uint8_t> bytes) {
    if (bytes.size() < 24 || std::memcmp(bytes.data(), kDebugCookie, 8) != 0) return std::nullopt;
    DebugOffsetsHeader h;
    h.version_hex = u64_at(bytes, 8);
    h.free_threaded = u64_at(bytes, 16) != 0;
    return h;
}

Expected<DebugOffsets> parse_debug_offsets(std::span<const uint8_t> bytes) {
    auto header = parse_debug_offsets_header(bytes);
    if (!header) return fail("no _Py_DebugOffsets (cookie \"xdebugpy\") at the start of _PyRuntime");
    std::string version = full_version_string(header->version_hex);
    if (((header->version_hex >> 24) & 0xff) != 3 || ((header->version_hex >> 16) & 0xff) < 13)
        return fail("the _Py_DebugOffsets claim version " + version + ", which has none");
    const Schema* schema = schema_for(header->version_hex);
    if (!schema)
        return fail("Python " + version + " is not supported: snag knows the _Py_DebugOffsets of " +
                    known_debug_offsets_versions() + " (final releases) only");
    DebugOffsets out;
    out.version_hex = header->version_hex;
    out.free_threaded = header->free_threaded;
    out.schema = schema->name;
    size_t pos = 24;
    for (const auto& section : schema->sections) {
        std::optional<uint64_t> bound;
        for (const auto& field : split(section.fields)) {
            if (pos + 8 > bytes.size())
                return fail("the _Py_DebugOffsets of Python " + version + " end before " + section.name);
            uint64_t v = u64_at(bytes, pos);
            pos += 8;
            if (field == "size") bound = v;
            else if (bound && is_bounded_offset(field) && v >= *bound)
                return fail("the _Py_DebugOffsets of Python " + version + " are damaged: " +
                            section.name + "." + field + " = " + std::to_string(v) +
                            " lies outside its " + std::to_string(*bound) + "-byte structure");
            out.values[std::string(section.name) + "." + field] = v;
        }
    }
    out.struct_size = pos;
    return out;
}

}  // namespace snag::python
