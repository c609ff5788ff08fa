// Python 2.7's layout: checked field by field against the DWARF of pyenv 2.7.18 (gdb ptype/o,
// x86_64, GCC 12, UCS4). Discovery finds interp_head, _PyThreadState_Current and the GC's
// `collecting` as statics, as for 3.6.
#include "python/layout.hpp"

namespace snag::python {

Layout builtin_layout_27() {
    Layout l;
    l.major = 2;
    l.minor = 7;
    l.source = "built-in table 2.7";
    l.py2_objects = true;
    // PyInterpreterState, PyThreadState
    l.is_next = 0;
    l.is_threads_head = 8;
    l.is_modules = 16;
    l.ts_next = 0;
    l.ts_interp = 8;
    l.ts_frame = 16;
    l.ts_curexc_value = 80;
    l.ts_exc_value = 104;
    l.ts_thread_id = 144;
    // PyFrameObject: the same as 3.6 up to f_localsplus
    l.fr_back = 24;
    l.fr_code = 32;
    l.fr_valuestack = 64;
    l.fr_lasti = 120;
    l.op_enter_with = 143;  // SETUP_WITH
    l.fr_localsplus = 376;
    // PyCodeObject
    l.co_argcount = 16;
    l.co_nlocals = 20;
    l.co_stacksize = 24;
    l.co_code = 32;
    l.co_varnames = 56;
    l.co_freevars = 64;
    l.co_cellvars = 72;
    l.co_filename = 80;
    l.co_name = 88;
    l.co_firstlineno = 96;
    l.co_linetable = 104;
    l.line_format = LineTableFormat::Lnotab27;
    // Objects
    l.bytes_data = 36;                  // PyStringObject.ob_sval, after ob_shash and ob_sstate
    l.dict_used = 24;
    l.dict_mask = 32;
    l.dict_table = 40;
    l.set_entry_key = 8;
    l.func_code = 16;
    l.func_name = 56;
    l.ht_qualname = kAbsent;            // PyHeapTypeObject has ht_name only
    l.exc_args = 24;
    l.lock_sem = 16;
    return l;
}

}  // namespace snag::python
