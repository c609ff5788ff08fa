#include "python/layout.hpp"

#include <cstring>

namespace snag::python {
namespace {

// Offsets checked against the DWARF of the pyenv builds (gdb ptype/o, x86_64, GCC 12).
void set_frame_object_fields(Layout& l, Off lasti, Off localsplus) {
    l.op_enter_with = 143;  // SETUP_WITH, 3.6–3.10
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
    l.fr_stacktop = minor <= 13 ? 64 : kAbsent;  // 3.14+ keeps a stackpointer, named by its debug offsets
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
    l.op_enter_with = 53;  // BEFORE_WITH
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
        // 3.14+ is read through its debug offsets; these fill the gaps they leave (checked
        // against the DWARF of Debian's python3.14-dbg 3.14.10 and python3.15-dbg 3.15.2).
        l.tagged_refs = true;
        l.tuple_items = 32;
        l.co_firsttraceable = 192;
    }
    return l;
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

namespace {

// Free-threaded builds put ob_tid, ob_mutex, ob_gc_bits and two reference counts before ob_type
// (Include/object.h); the objects' own fields follow unchanged, all moved by the same amount.
void shift_object_fields(Layout& l, Off by) {
    static constexpr Off Layout::*kObjectFields[] = {
        &Layout::co_argcount, &Layout::co_nlocals, &Layout::co_stacksize, &Layout::co_firstlineno,
        &Layout::co_code, &Layout::co_varnames, &Layout::co_freevars, &Layout::co_cellvars,
        &Layout::co_filename, &Layout::co_name, &Layout::co_qualname, &Layout::co_linetable,
        &Layout::co_nlocalsplus, &Layout::co_localsplusnames, &Layout::co_localspluskinds,
        &Layout::co_code_adaptive, &Layout::co_firsttraceable, &Layout::co_tlbc,
        &Layout::gen_iframe, &Layout::gen_frame_state,
        &Layout::ob_type, &Layout::tp_name, &Layout::tp_basicsize, &Layout::tp_flags,
        &Layout::tp_dictoffset, &Layout::ht_qualname,
        &Layout::var_size, &Layout::tuple_items, &Layout::list_items, &Layout::bytes_data,
        &Layout::float_value, &Layout::long_tag, &Layout::long_digits, &Layout::str_state,
        &Layout::str_length, &Layout::str_ascii_size, &Layout::str_compact_size, &Layout::str_legacy_data,
        &Layout::dict_used, &Layout::dict_keys, &Layout::dict_values,
        &Layout::set_used, &Layout::set_mask, &Layout::set_table,
        &Layout::cell_ref, &Layout::module_dict, &Layout::func_qualname, &Layout::func_code,
        &Layout::func_name, &Layout::method_func, &Layout::method_self,
        &Layout::exc_args, &Layout::exc_traceback, &Layout::exc_context, &Layout::exc_cause,
    };
    for (auto field : kObjectFields)
        if (l.*field >= 0) l.*field += by;
}

// The fields every 3.13+ _Py_DebugOffsets carries.
void apply_common_offsets(const DebugOffsets& d, Layout& l) {
    auto at = [&](std::string_view section, std::string_view field) { return d.offset(section, field); };
    l.rt_interpreters_head = at("runtime_state", "interpreters_head");
    l.is_id = at("interpreter_state", "id");
    l.is_next = at("interpreter_state", "next");
    l.is_threads_head = at("interpreter_state", "threads_head");
    l.is_modules = at("interpreter_state", "imports_modules");
    l.is_ceval_gil = at("interpreter_state", "ceval_gil");
    // The GIL fields are given from the interpreter; snag reads them from the GIL in use.
    Off gil = at("interpreter_state", "gil_runtime_state");
    l.gil_locked = at("interpreter_state", "gil_runtime_state_locked") - gil;
    l.gil_last_holder = at("interpreter_state", "gil_runtime_state_holder") - gil;
    l.is_gc_collecting = at("interpreter_state", "gc") + at("gc", "collecting");
    l.ts_next = at("thread_state", "next");
    l.ts_interp = at("thread_state", "interp");
    l.ts_current_frame = at("thread_state", "current_frame");
    l.ts_thread_id = at("thread_state", "thread_id");
    l.ts_native_thread_id = at("thread_state", "native_thread_id");
    l.ts_datastack_chunk = at("thread_state", "datastack_chunk");
    l.fr_back = at("interpreter_frame", "previous");
    l.fr_code = at("interpreter_frame", "executable");
    l.fr_instr = at("interpreter_frame", "instr_ptr");
    l.fr_localsplus = at("interpreter_frame", "localsplus");
    l.fr_owner = at("interpreter_frame", "owner");
    l.co_filename = at("code_object", "filename");
    l.co_name = at("code_object", "name");
    l.co_qualname = at("code_object", "qualname");
    l.co_linetable = at("code_object", "linetable");
    l.co_firstlineno = at("code_object", "firstlineno");
    l.co_argcount = at("code_object", "argcount");
    l.co_localsplusnames = at("code_object", "localsplusnames");
    l.co_localspluskinds = at("code_object", "localspluskinds");
    l.co_code_adaptive = at("code_object", "co_code_adaptive");
    l.ob_type = at("pyobject", "ob_type");
    l.tp_name = at("type_object", "tp_name");
    l.tp_flags = at("type_object", "tp_flags");
    l.tuple_items = at("tuple_object", "ob_item");
    l.var_size = at("tuple_object", "ob_size");
    l.list_items = at("list_object", "ob_item");
    l.dict_keys = at("dict_object", "ma_keys");
    l.dict_values = at("dict_object", "ma_values");
    l.float_value = at("float_object", "ob_fval");
    l.long_tag = at("long_object", "lv_tag");
    l.long_digits = at("long_object", "ob_digit");
    l.bytes_data = at("bytes_object", "ob_sval");
    l.str_state = at("unicode_object", "state");
    l.str_length = at("unicode_object", "length");
    l.str_ascii_size = at("unicode_object", "asciiobject_size");
    l.str_compact_size = l.str_ascii_size + 16;
}

// Fields that only some versions' offsets carry; each keeps the table's value when absent.
void apply_optional_offsets(const DebugOffsets& d, Layout& l) {
    auto maybe = [&](Off& field, std::string_view section, std::string_view name) {
        if (auto v = d.get(section, name)) field = static_cast<Off>(*v);
    };
    maybe(l.set_used, "set_object", "used");
    maybe(l.set_table, "set_object", "table");
    maybe(l.set_mask, "set_object", "mask");
    maybe(l.gen_iframe, "gen_object", "gi_iframe");
    maybe(l.gen_frame_state, "gen_object", "gi_frame_state");
    maybe(l.str_compact_size, "unicode_object", "compactunicodeobject_size");
    maybe(l.tp_basicsize, "type_object", "tp_basicsize");
    maybe(l.tp_dictoffset, "type_object", "tp_dictoffset");
    // exc_info is declared right after current_exception (Include/cpython/pystate.h).
    if (auto v = d.get("thread_state", "current_exception")) {
        l.ts_current_exception = static_cast<Off>(*v);
        l.ts_exc_info = l.ts_current_exception + 8;
    }
    maybe(l.ts_holds_gil, "thread_state", "holds_gil");
    maybe(l.fr_stackpointer, "interpreter_frame", "stackpointer");
    // ht_qualname is the pointer just before ht_cached_keys (Include/cpython/object.h).
    if (auto keys = d.get("heap_type_object", "ht_cached_keys")) l.ht_qualname = static_cast<Off>(*keys) - 8;
    if (d.free_threaded) {
        // In GIL builds this field is 0; here it is offsetof(struct _gil_runtime_state, enabled).
        maybe(l.gil_enabled, "interpreter_state", "gil_runtime_state_enabled");
        maybe(l.fr_tlbc_index, "interpreter_frame", "tlbc_index");
        maybe(l.co_tlbc, "code_object", "co_tlbc");
    }
    l.str_legacy_data = l.str_compact_size;
}

}  // namespace

Expected<Layout> layout_from_debug_offsets(std::span<const uint8_t> bytes) {
    auto offsets = parse_debug_offsets(bytes);
    if (!offsets) return std::unexpected(offsets.error());
    int minor = static_cast<int>((offsets->version_hex >> 16) & 0xff);
    Layout l = *builtin_layout(minor >= 14 ? 14 : 13);
    l.minor = minor;
    l.free_threaded = offsets->free_threaded;
    // Fields the offsets do not carry come from the table, moved past a free-threaded header.
    if (auto ob_type = offsets->get("pyobject", "ob_type"))
        shift_object_fields(l, static_cast<Off>(*ob_type) - l.ob_type);
    apply_common_offsets(*offsets, l);
    apply_optional_offsets(*offsets, l);
    // PyThreadState.state, which the offsets do not carry (DWARF of pyenv 3.13.0, the 3.13.5t
    // build, Debian's python3.14-dbg and python3.15-dbg): after _status, _whence and 3.14's
    // holds_gil, 3.15's gil_requested.
    l.ts_state = minor == 13 ? 40 : minor == 14 ? 44 : minor == 15 ? 48 : kAbsent;
    l.source = "_Py_DebugOffsets " + full_version_string(offsets->version_hex);
    if (offsets->free_threaded) l.source += " (free-threaded)";
    l.debug_offsets = std::make_shared<const DebugOffsets>(std::move(*offsets));
    return l;
}

}  // namespace snag::python
