#include "python/dwarf_layout.hpp"

#include <vector>

namespace snag::python {
namespace {

struct FieldSource {
    Off Layout::*field;
    const char* type;
    const char* member;
    int min_minor = 0, max_minor = 99;
};

std::vector<FieldSource> field_sources() {
    return {
        {&Layout::rt_interpreters_head, "_PyRuntimeState", "interpreters.head"},
        {&Layout::rt_gil_last_holder, "_PyRuntimeState", "ceval.gil.last_holder"},
        {&Layout::rt_gil_locked, "_PyRuntimeState", "ceval.gil.locked"},
        {&Layout::rt_tstate_current, "_PyRuntimeState", "gilstate.tstate_current"},
        {&Layout::rt_gc_collecting, "_PyRuntimeState", "gc.collecting"},
        {&Layout::is_next, "PyInterpreterState", "next"},
        {&Layout::is_threads_head, "PyInterpreterState", "tstate_head", 0, 10},
        {&Layout::is_threads_head, "PyInterpreterState", "threads.head", 11},
        {&Layout::is_id, "PyInterpreterState", "id"},
        {&Layout::is_ceval_gil, "PyInterpreterState", "ceval.gil", 12},
        {&Layout::is_gc_collecting, "PyInterpreterState", "gc.collecting"},
        {&Layout::is_modules, "PyInterpreterState", "modules", 0, 11},
        {&Layout::is_modules, "PyInterpreterState", "imports.modules", 12},
        {&Layout::ts_next, "PyThreadState", "next"},
        {&Layout::ts_interp, "PyThreadState", "interp"},
        {&Layout::ts_frame, "PyThreadState", "frame"},
        {&Layout::ts_cframe, "PyThreadState", "cframe"},
        {&Layout::cframe_current_frame, "_PyCFrame", "current_frame"},
        {&Layout::ts_current_frame, "PyThreadState", "current_frame"},
        {&Layout::ts_thread_id, "PyThreadState", "thread_id"},
        {&Layout::ts_native_thread_id, "PyThreadState", "native_thread_id"},
        {&Layout::ts_curexc_value, "PyThreadState", "curexc_value"},
        {&Layout::ts_current_exception, "PyThreadState", "current_exception"},
        {&Layout::ts_exc_value, "PyThreadState", "exc_value"},
        {&Layout::ts_exc_info, "PyThreadState", "exc_info"},
        {&Layout::fr_back, "PyFrameObject", "f_back", 0, 10},
        {&Layout::fr_code, "PyFrameObject", "f_code", 0, 10},
        {&Layout::fr_lasti, "PyFrameObject", "f_lasti", 0, 10},
        {&Layout::fr_localsplus, "PyFrameObject", "f_localsplus", 0, 10},
        {&Layout::fr_valuestack, "PyFrameObject", "f_valuestack", 0, 10},
        {&Layout::fr_back, "_PyInterpreterFrame", "previous", 11},
        {&Layout::fr_code, "_PyInterpreterFrame", "f_code", 11, 12},
        {&Layout::fr_code, "_PyInterpreterFrame", "f_executable", 13},
        {&Layout::fr_instr, "_PyInterpreterFrame", "prev_instr", 11, 12},
        {&Layout::fr_instr, "_PyInterpreterFrame", "instr_ptr", 13},
        {&Layout::fr_localsplus, "_PyInterpreterFrame", "localsplus", 11},
        {&Layout::fr_owner, "_PyInterpreterFrame", "owner", 11},
        {&Layout::fr_is_entry, "_PyInterpreterFrame", "is_entry", 11},
        {&Layout::co_argcount, "PyCodeObject", "co_argcount"},
        {&Layout::co_nlocals, "PyCodeObject", "co_nlocals"},
        {&Layout::co_stacksize, "PyCodeObject", "co_stacksize"},
        {&Layout::co_firstlineno, "PyCodeObject", "co_firstlineno"},
        {&Layout::co_code, "PyCodeObject", "co_code"},
        {&Layout::co_varnames, "PyCodeObject", "co_varnames"},
        {&Layout::co_freevars, "PyCodeObject", "co_freevars"},
        {&Layout::co_cellvars, "PyCodeObject", "co_cellvars"},
        {&Layout::co_filename, "PyCodeObject", "co_filename"},
        {&Layout::co_name, "PyCodeObject", "co_name"},
        {&Layout::co_qualname, "PyCodeObject", "co_qualname"},
        {&Layout::co_linetable, "PyCodeObject", "co_lnotab", 0, 9},
        {&Layout::co_linetable, "PyCodeObject", "co_linetable", 10},
        {&Layout::co_nlocalsplus, "PyCodeObject", "co_nlocalsplus"},
        {&Layout::co_localsplusnames, "PyCodeObject", "co_localsplusnames"},
        {&Layout::co_localspluskinds, "PyCodeObject", "co_localspluskinds"},
        {&Layout::co_code_adaptive, "PyCodeObject", "co_code_adaptive"},
        {&Layout::co_firsttraceable, "PyCodeObject", "_co_firsttraceable"},
        {&Layout::gen_iframe, "PyGenObject", "gi_iframe"},
        {&Layout::gen_frame_state, "PyGenObject", "gi_frame_state"},
        {&Layout::ht_qualname, "PyHeapTypeObject", "ht_qualname"},
        {&Layout::func_qualname, "PyFunctionObject", "func_qualname"},
        {&Layout::func_code, "PyFunctionObject", "func_code"},
        // Checked from 3.13 on, where a free-threaded header moves every object field.
        {&Layout::ts_state, "PyThreadState", "state", 13},
        {&Layout::gil_enabled, "_gil_runtime_state", "enabled", 13},
        {&Layout::gil_locked, "_gil_runtime_state", "locked", 13},
        {&Layout::gil_last_holder, "_gil_runtime_state", "last_holder", 13},
        {&Layout::fr_tlbc_index, "_PyInterpreterFrame", "tlbc_index", 14},
        {&Layout::co_tlbc, "PyCodeObject", "co_tlbc", 14},
        {&Layout::ob_type, "PyObject", "ob_type", 13},
        {&Layout::tp_basicsize, "PyTypeObject", "tp_basicsize", 13},
        {&Layout::tp_flags, "PyTypeObject", "tp_flags", 13},
        {&Layout::tp_dictoffset, "PyTypeObject", "tp_dictoffset", 13},
        {&Layout::long_tag, "PyLongObject", "long_value.lv_tag", 13},
        {&Layout::dict_used, "PyDictObject", "ma_used", 13},
        {&Layout::set_used, "PySetObject", "used", 13},
        {&Layout::cell_ref, "PyCellObject", "ob_ref", 13},
        {&Layout::module_dict, "PyModuleObject", "md_dict", 13},
        {&Layout::method_func, "PyMethodObject", "im_func", 13},
        {&Layout::method_self, "PyMethodObject", "im_self", 13},
        {&Layout::exc_args, "PyBaseExceptionObject", "args", 13},
        {&Layout::exc_traceback, "PyBaseExceptionObject", "traceback", 13},
        {&Layout::exc_context, "PyBaseExceptionObject", "context", 13},
        {&Layout::exc_cause, "PyBaseExceptionObject", "cause", 13},
    };
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int apply_dwarf_layout(Symbolizer& symbols, const std::string& module_path, Layout& layout) {
    std::string prefix = base_name(module_path) + "!";
    // Without the thread state type there is no DWARF for this interpreter: keep the table.
    if (!symbols.member_offset(prefix + "PyThreadState", "interp")) return 0;
    int supplied = 0, differed = 0;
    for (const auto& s : field_sources()) {
        if (layout.minor < s.min_minor || layout.minor > s.max_minor) continue;
        if (layout.*s.field < 0) continue;  // this version's table says the field does not exist
        auto off = symbols.member_offset(prefix + s.type, s.member);
        if (!off) continue;
        if (static_cast<Off>(*off) != layout.*s.field) ++differed;
        layout.*s.field = static_cast<Off>(*off);
        ++supplied;
    }
    layout.source = "DWARF of " + base_name(module_path) + " (" + std::to_string(supplied) +
                    " fields, " + std::to_string(differed) + " differ from the built-in table)";
    return supplied;
}

}  // namespace snag::python
