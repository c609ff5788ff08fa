#include "python/layout.hpp"

#include <cstring>

namespace snag::python {
namespace {

// Offsets checked against the DWARF of the pyenv builds (gdb ptype/o, x86_64, GCC 12).
void set_frame_object_fields(Layout& l, Off lasti, Off localsplus) {
    l.fr_back = 24;
    l.fr_code = 32;
    l.fr_lasti = lasti;
    l.fr_localsplus = localsplus;
    l.fr_valuestack = 64;
}

void set_old_code_fields(Layout& l, bool wide) {
    // 3.8 added co_posonlyargcount, shifting everything after co_argcount by 4 then 8.
    l.co_argcount = 16;
    l.co_nlocals = wide ? 28 : 24;
    l.co_stacksize = wide ? 32 : 28;
    l.co_firstlineno = wide ? 40 : 36;
    l.co_code = wide ? 48 : 40;
    l.co_varnames = wide ? 72 : 64;
    l.co_freevars = wide ? 80 : 72;
    l.co_cellvars = wide ? 88 : 80;
    l.co_filename = wide ? 104 : 96;
    l.co_name = wide ? 112 : 104;
    l.co_linetable = wide ? 120 : 112;
}

void set_old_thread_fields(Layout& l, Off thread_id, Off curexc_value) {
    l.ts_next = 8;
    l.ts_interp = 16;
    l.ts_frame = 24;
    l.ts_thread_id = thread_id;
    l.ts_curexc_value = curexc_value;
    l.exc_traceback = 32;
    l.exc_context = 40;
    l.exc_cause = 48;
    l.func_qualname = 104;
    l.func_code = 16;
    l.is_next = 0;
    l.is_threads_head = 8;
}

void set_new_code_fields(Layout& l, int minor) {
    l.co_argcount = minor == 11 ? 56 : 52;
    l.co_stacksize = minor == 11 ? 68 : 64;
    l.co_firstlineno = minor == 11 ? 72 : 68;
    l.co_nlocalsplus = minor == 11 ? 76 : 72;
    l.co_localsplusnames = 96;
    l.co_localspluskinds = 104;
    l.co_filename = 112;
    l.co_name = 120;
    l.co_qualname = 128;
    l.co_linetable = 136;
    l.line_format = LineTableFormat::Locations311;
    l.co_code_adaptive = minor == 11 ? 184 : minor == 12 ? 192 : minor == 13 ? 200 : 208;
    l.co_firsttraceable = minor == 11 ? 168 : minor == 12 ? 176 : 184;
}

void set_new_common_fields(Layout& l, int minor) {
    l.interpreter_frames = true;
    l.ts_next = 8;
    l.ts_interp = 16;
    l.err_item_value = 0;
    l.err_item_previous = 8;
    l.fr_localsplus = minor >= 14 ? 80 : 72;
    l.fr_instr = 56;
    l.dict_keys_311 = true;
    l.exc_traceback = 40;
    l.exc_context = 48;
    l.exc_cause = 56;
    l.func_qualname = 40;
    l.func_code = 48;
    l.gil_last_holder = 8;
    l.gil_locked = 16;
    set_new_code_fields(l, minor);
    if (minor >= 12) {
        l.str_ascii_size = 40;
        l.str_compact_size = 56;
        l.str_legacy_data = 56;
        l.str_has_ready_bit = false;
        l.long_tagged = true;
        l.gen_iframe = 72;
        l.gen_frame_state = 67;
        l.fr_back = 8;
        l.fr_code = 0;
        l.fr_owner = minor >= 14 ? 74 : 70;
    }
}

Layout table_36() {
    Layout l;
    l.minor = 6;
    set_old_thread_fields(l, 152, 88);
    l.ts_exc_value = 112;
    l.is_modules = 16;
    set_frame_object_fields(l, 120, 376);
    set_old_code_fields(l, false);
    l.ht_qualname = 848;
    return l;
}

Layout table_37_to_310(int minor) {
    Layout l;
    l.minor = minor;
    set_old_thread_fields(l, 176, 96);
    l.ts_exc_info = 144;
    l.err_item_value = 8;
    l.err_item_previous = 24;
    l.gil_last_holder = 8;
    l.gil_locked = 16;
    if (minor == 7) {
        l.rt_interpreters_head = 24;
        l.rt_gil_last_holder = 1272;
        l.rt_gil_locked = 1280;
        l.rt_tstate_current = 1480;
        l.rt_gc_collecting = 632;
        l.is_id = 16;
        l.is_modules = 40;
    } else if (minor == 8) {
        l.rt_interpreters_head = 32;
        l.rt_gil_last_holder = 1160;
        l.rt_gil_locked = 1168;
        l.rt_tstate_current = 1368;
        l.rt_gc_collecting = 544;
        l.is_id = 16;
        l.is_modules = 56;
    } else {
        l.rt_interpreters_head = 32;
        l.rt_gil_last_holder = 360;
        l.rt_gil_locked = 368;
        l.rt_tstate_current = 568;
        l.is_id = 24;
        l.is_modules = 856;
        l.is_gc_collecting = 816;
    }
    set_frame_object_fields(l, minor == 10 ? 96 : 104, minor == 10 ? 352 : 360);
    set_old_code_fields(l, minor >= 8);
    l.ht_qualname = minor == 9 ? 856 : minor == 7 ? 848 : 864;
    if (minor == 10) {
        l.lasti_in_units = true;
        l.line_format = LineTableFormat::Linetable310;
        l.func_qualname = 40;
        l.func_code = 48;
    }
    return l;
}

Layout table_311() {
    Layout l;
    l.minor = 11;
    set_new_common_fields(l, 11);
    l.rt_interpreters_head = 40;
    l.rt_gil_last_holder = 368;
    l.rt_gil_locked = 376;
    l.rt_tstate_current = 576;
    l.is_next = 0;
    l.is_threads_head = 16;
    l.is_id = 48;
    l.is_modules = 888;
    l.is_gc_collecting = 848;
    l.ts_cframe = 56;
    l.cframe_current_frame = 8;
    l.ts_thread_id = 152;
    l.ts_native_thread_id = 160;
    l.ts_curexc_value = 104;
    l.ts_exc_info = 120;
    l.fr_back = 48;
    l.fr_code = 32;
    l.fr_is_entry = 68;
    l.fr_owner = 69;
    l.gen_iframe = 80;
    l.gen_frame_state = 75;
    l.ht_qualname = 864;
    return l;
}

Layout table_312() {
    Layout l;
    l.minor = 12;
    set_new_common_fields(l, 12);
    l.rt_interpreters_head = 40;
    l.is_next = 0;
    l.is_threads_head = 72;
    l.is_id = 8;
    l.is_ceval_gil = 384;
    l.is_gc_collecting = 312;
    l.is_modules = 944;
    l.ts_cframe = 56;
    l.cframe_current_frame = 0;
    l.ts_thread_id = 136;
    l.ts_native_thread_id = 144;
    l.ts_current_exception = 96;
    l.ts_exc_info = 104;
    l.ht_qualname = 872;
    return l;
}

Layout table_313_plus(int minor) {
    Layout l;
    l.minor = minor;
    set_new_common_fields(l, minor);
    l.rt_interpreters_head = 632;
    l.is_next = 7264;
    l.is_threads_head = 7344;
    l.is_id = 7272;
    l.is_ceval_gil = 16;
    l.is_gc_collecting = 7600;
    l.is_modules = 7656;
    l.ts_current_frame = 72;
    l.ts_thread_id = 152;
    l.ts_native_thread_id = 160;
    l.ts_current_exception = 112;
    l.ts_exc_info = 120;
    l.dict_split_values_header = 8;
    l.ht_qualname = 872;
    if (minor >= 14) {
        // 3.14 is only trusted through its debug offsets; these fill the gaps they leave.
        l.tagged_refs = true;
        l.tuple_items = 32;
        l.lock_is_mutex = true;
        l.lock_locked = 16;
        l.rlock_owner = 24;
        l.rlock_count = 32;
        l.rlock_count_is_level = true;
        l.ts_current_exception = kAbsent;
        l.ts_exc_info = kAbsent;
    }
    return l;
}

uint64_t field(std::span<const uint8_t> bytes, size_t offset) {
    uint64_t v = 0;
    if (offset + 8 <= bytes.size()) std::memcpy(&v, bytes.data() + offset, 8);
    return v;
}

}  // namespace

std::optional<Layout> builtin_layout(int minor) {
    std::optional<Layout> l;
    if (minor == 6) l = table_36();
    else if (minor >= 7 && minor <= 10) l = table_37_to_310(minor);
    else if (minor == 11) l = table_311();
    else if (minor == 12) l = table_312();
    else if (minor == 13 || minor == 14) l = table_313_plus(minor);
    if (l) l->source = "built-in table 3." + std::to_string(minor);
    return l;
}

std::string version_string(uint64_t hex) {
    return std::to_string((hex >> 24) & 0xff) + "." + std::to_string((hex >> 16) & 0xff) + "." +
           std::to_string((hex >> 8) & 0xff);
}

std::optional<DebugOffsetsInfo> parse_debug_offsets_header(std::span<const uint8_t> bytes) {
    if (bytes.size() < 24 || std::memcmp(bytes.data(), kDebugCookie, 8) != 0) return std::nullopt;
    DebugOffsetsInfo info;
    info.version_hex = field(bytes, 8);
    info.free_threaded = field(bytes, 16) != 0;
    if (((info.version_hex >> 24) & 0xff) != 3 || ((info.version_hex >> 16) & 0xff) < 13)
        return std::nullopt;
    return info;
}

namespace {

// Reads groups of uint64 fields; each group starts with its structure's size.
struct GroupReader {
    std::span<const uint8_t> bytes;
    size_t pos = 24;
    bool ok = true;
    uint64_t size = 0;
    void group() { size = next_raw(); }
    uint64_t next_raw() {
        uint64_t v = field(bytes, pos);
        if (pos + 8 > bytes.size()) ok = false;
        pos += 8;
        return v;
    }
    // A field offset must lie inside its structure (pystack's validateDebugOffsets rule).
    Off next() {
        uint64_t v = next_raw();
        if (size == 0 || v >= size) ok = false;
        return static_cast<Off>(v);
    }
};

void read_313_groups(GroupReader& r, Layout& l, bool v314) {
    r.group();  // runtime_state
    r.next();   // finalizing
    l.rt_interpreters_head = r.next();
    r.group();  // interpreter_state
    l.is_id = r.next();
    l.is_next = r.next();
    l.is_threads_head = r.next();
    if (v314) r.next();  // threads_main
    Off gc = r.next();
    l.is_modules = r.next();
    r.next();  // sysdict
    r.next();  // builtins
    l.is_ceval_gil = r.next();
    Off gil = r.next();
    r.next_raw();  // gil_runtime_state_enabled: offset inside the GIL struct
    l.gil_locked = r.next() - gil;
    l.gil_last_holder = r.next() - gil;
    if (v314) { r.next(); r.next(); }  // code_object_generation, tlbc_generation
    r.group();  // thread_state
    r.next();   // prev
    l.ts_next = r.next();
    l.ts_interp = r.next();
    l.ts_current_frame = r.next();
    l.ts_thread_id = r.next();
    l.ts_native_thread_id = r.next();
    r.next();   // datastack_chunk
    r.next();   // status
    r.group();  // interpreter_frame
    l.fr_back = r.next();
    l.fr_code = r.next();
    l.fr_instr = r.next();
    l.fr_localsplus = r.next();
    l.fr_owner = r.next();
    if (v314) { r.next(); r.next(); }  // stackpointer, tlbc_index
    r.group();  // code_object
    l.co_filename = r.next();
    l.co_name = r.next();
    l.co_qualname = r.next();
    l.co_linetable = r.next();
    l.co_firstlineno = r.next();
    l.co_argcount = r.next();
    l.co_localsplusnames = r.next();
    l.co_localspluskinds = r.next();
    l.co_code_adaptive = r.next();
    if (v314) r.next();  // co_tlbc
    r.group();  // pyobject
    l.ob_type = r.next();
    r.group();  // type_object
    l.tp_name = r.next();
    r.next();   // tp_repr
    l.tp_flags = r.next();
    r.group();  // tuple_object
    l.tuple_items = r.next();
    l.var_size = r.next();
    r.group();  // list_object
    l.list_items = r.next();
    r.next();
    if (v314) {
        r.group();  // set_object
        l.set_used = r.next();
        l.set_table = r.next();
        l.set_mask = r.next();
    }
    r.group();  // dict_object
    l.dict_keys = r.next();
    l.dict_values = r.next();
    r.group();  // float_object
    l.float_value = r.next();
    r.group();  // long_object
    r.next();   // lv_tag
    l.long_digits = r.next();
    r.group();  // bytes_object
    r.next();
    l.bytes_data = r.next();
    r.group();  // unicode_object
    l.str_state = r.next();
    l.str_length = r.next();
    l.str_ascii_size = static_cast<Off>(r.next_raw());
    r.group();  // gc
    l.is_gc_collecting = gc + r.next();
    if (v314) {
        r.group();  // gen_object
        r.next();   // gi_name
        l.gen_iframe = r.next();
        l.gen_frame_state = r.next();
    }
}

}  // namespace

std::optional<Layout> layout_from_debug_offsets(std::span<const uint8_t> bytes) {
    auto info = parse_debug_offsets_header(bytes);
    if (!info) return std::nullopt;
    int minor = static_cast<int>((info->version_hex >> 16) & 0xff);
    auto base = builtin_layout(minor >= 14 ? 14 : 13);
    if (!base) return std::nullopt;
    Layout l = *base;
    l.minor = minor;
    l.free_threaded = info->free_threaded;
    GroupReader r{bytes};
    read_313_groups(r, l, minor >= 14);
    if (!r.ok) return std::nullopt;
    l.str_compact_size = l.str_ascii_size + 16;
    l.str_legacy_data = l.str_compact_size;
    l.source = "_Py_DebugOffsets " + version_string(info->version_hex);
    if (info->free_threaded) l.source += " (free-threaded)";
    return l;
}

}  // namespace snag::python
