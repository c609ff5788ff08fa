// Python Layout: byte offsets of the CPython structures snag reads, per interpreter version.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/error.hpp"
#include "python/debug_offsets.hpp"
#include "python/line_table.hpp"

namespace snag::python {

// -1 marks a field this version does not have.
using Off = int64_t;
constexpr Off kAbsent = -1;

struct Layout {
    int major = 3, minor = 0;
    std::string source;        // "built-in table 3.9", "_Py_DebugOffsets 3.13", "DWARF ..."
    bool free_threaded = false;
    // 3.13+: the target's own _Py_DebugOffsets, for fields the Layout does not name.
    std::shared_ptr<const DebugOffsets> debug_offsets;

    // _PyRuntime (3.7+); 3.6 keeps these in static variables found by discovery.
    Off rt_interpreters_head = kAbsent;
    Off rt_gil_last_holder = kAbsent, rt_gil_locked = kAbsent;  // 3.7–3.11 global GIL
    Off rt_tstate_current = kAbsent;
    Off rt_gc_collecting = kAbsent;                            // 3.7–3.8

    // PyInterpreterState
    Off is_next = kAbsent, is_threads_head = kAbsent, is_id = kAbsent;
    Off is_ceval_gil = kAbsent;        // 3.12+: pointer to the GIL this interpreter uses
    Off gil_last_holder = kAbsent, gil_locked = kAbsent;  // inside struct _gil_runtime_state
    Off gil_enabled = kAbsent;         // free-threaded: 0 while the GIL is off (PYTHON_GIL=1 turns it on)
    Off is_gc_collecting = kAbsent;    // 3.9+
    Off is_modules = kAbsent;          // sys.modules dict (pointer)

    // PyThreadState
    Off ts_next = kAbsent, ts_interp = kAbsent;
    Off ts_frame = kAbsent;            // ≤3.10 PyFrameObject*
    Off ts_cframe = kAbsent, cframe_current_frame = kAbsent;  // 3.11–3.12
    Off ts_current_frame = kAbsent;    // 3.13+
    Off ts_thread_id = kAbsent, ts_native_thread_id = kAbsent;
    Off ts_holds_gil = kAbsent;        // 3.15: int, 1 while this thread holds the GIL
    Off ts_state = kAbsent;            // 3.13+: int, 1 (_Py_THREAD_ATTACHED) while it may run bytecode
    Off ts_datastack_chunk = kAbsent;  // 3.11+: _PyStackChunk* holding the thread's frames
    Off ts_curexc_value = kAbsent;     // ≤3.11 exception being raised; 3.12+ ts_current_exception
    Off ts_current_exception = kAbsent;
    Off ts_exc_value = kAbsent;        // 3.6: exception being handled
    Off ts_exc_info = kAbsent;         // 3.7+: _PyErr_StackItem*
    Off err_item_value = kAbsent, err_item_previous = kAbsent;

    // Frames: PyFrameObject (≤3.10) or _PyInterpreterFrame (3.11+)
    bool interpreter_frames = false;
    Off fr_back = kAbsent, fr_code = kAbsent;
    Off fr_lasti = kAbsent;            // ≤3.10 int
    bool lasti_in_units = false;       // 3.10 counts code units
    Off fr_instr = kAbsent;            // 3.11+ pointer into co_code_adaptive
    Off fr_localsplus = kAbsent, fr_valuestack = kAbsent;
    Off fr_owner = kAbsent, fr_is_entry = kAbsent;
    Off fr_stacktop = kAbsent;         // 3.11–3.13 int: slots in use from localsplus, -1 while the frame runs
    Off fr_stackpointer = kAbsent;     // 3.14+ pointer just past the value stack's top (debug offsets)
    // The opcode a frame sits on while it enters a `with` block and __enter__ (a lock's acquire)
    // has not returned: SETUP_WITH on 2.7–3.10, BEFORE_WITH on 3.11; -1 where the value stack
    // tells instead (3.12+ keeps the manager below the bound __exit__).
    int op_enter_with = -1;
    bool tagged_refs = false;          // 3.14 _PyStackRef
    Off fr_tlbc_index = kAbsent;       // 3.14t: which thread-local bytecode copy runs

    // PyCodeObject
    Off co_argcount = kAbsent, co_nlocals = kAbsent, co_stacksize = kAbsent;
    Off co_firstlineno = kAbsent, co_code = kAbsent, co_varnames = kAbsent;
    Off co_freevars = kAbsent, co_cellvars = kAbsent;
    Off co_filename = kAbsent, co_name = kAbsent, co_qualname = kAbsent;
    Off co_linetable = kAbsent;        // co_lnotab ≤3.9
    LineTableFormat line_format = LineTableFormat::Lnotab;
    Off co_nlocalsplus = kAbsent, co_localsplusnames = kAbsent, co_localspluskinds = kAbsent;
    Off co_code_adaptive = kAbsent, co_firsttraceable = kAbsent;
    Off co_tlbc = kAbsent;             // 3.14t: _PyCodeArray* of thread-local bytecode

    // Generators (3.11+: embedded frame)
    Off gen_iframe = kAbsent, gen_frame_state = kAbsent;

    // Objects (offsets past the object header)
    Off ob_type = 8;
    Off tp_name = 24, tp_basicsize = 32, tp_flags = 168, tp_dictoffset = 288;
    Off ht_qualname = kAbsent;
    Off var_size = 16;                 // ob_size of variable-size objects
    Off tuple_items = 24, list_items = 24;
    Off bytes_data = 32;
    Off float_value = 16;
    Off long_tag = 16, long_digits = 24;  // lv_tag (3.12+) or ob_size, then the digits
    bool long_tagged = false;          // 3.12+ lv_tag
    Off str_state = 32, str_length = 16;
    Off str_ascii_size = 48, str_compact_size = 72;  // data follows these headers
    Off str_legacy_data = 72;          // PyUnicodeObject.data.any
    bool str_has_ready_bit = true;     // ≤3.11
    Off dict_used = 16, dict_keys = 32, dict_values = 40;
    bool dict_keys_311 = false;        // 3.11+ PyDictKeysObject layout
    Off dict_split_values_header = 0;  // 3.13+: _dictvalues header before the values
    Off set_used = 24, set_mask = 32, set_table = 40;
    Off set_entry_key = 0;             // 2.7 setentry is {hash, key}
    // Python 2.7: PyIntObject, str = PyStringObject (bytes), unicode with a separate buffer,
    // dicts as one open-addressing table of {hash, key, value} entries.
    bool py2_objects = false;
    Off int_value = 16;
    Off unicode_length = 16, unicode_buffer = 24;
    int unicode_unit = 4;              // UCS4 build (sys.maxunicode 1114111); UCS2 would be 2
    Off dict_mask = 32, dict_table = 40;
    Off cell_ref = 16;
    Off module_dict = 16;              // PyModuleObject.md_dict
    Off func_qualname = kAbsent, func_code = kAbsent;
    Off func_name = kAbsent;           // 2.7: functions have no __qualname__
    Off method_func = 16, method_self = 24;
    Off exc_args = 24, exc_traceback = kAbsent, exc_context = kAbsent, exc_cause = kAbsent;
    // threading locks (Modules/_threadmodule.c), from DWARF when lock_from_dwarf; otherwise
    // python/lock_layout.cpp picks a known layout by version and the type's tp_basicsize.
    int micro = -1;                    // patch version when known (3.13.0 and 3.13.1 differ)
    bool lock_from_dwarf = false;
    Off lock_locked = kAbsent;         // char, or the PyMutex byte when lock_is_mutex
    bool lock_is_mutex = false;
    Off rlock_owner = kAbsent, rlock_count = kAbsent;
    bool rlock_count_is_level = false; // _PyRecursiveMutex: count = level + 1
    Off lock_size = kAbsent, rlock_size = kAbsent;  // sizeof per DWARF, checked against tp_basicsize
    Off lock_sem = kAbsent;            // 2.7: thread.lock holds a sem_t*, locked when its value is 0

    // Bytes a free-threaded object header (ob_tid, ob_mutex, ob_gc_bits, ob_ref_local,
    // ob_ref_shared) adds before ob_type: 0 in GIL builds.
    Off header_extra() const { return ob_type - 8; }

    bool valid() const { return ts_next >= 0 && ts_interp >= 0 && fr_back >= 0 && co_name >= 0; }
};

// The built-in table for 3.minor (6–14); nullopt when unknown.
std::optional<Layout> builtin_layout(int minor);
// The built-in table for Python 2.7 (layout27.cpp).
Layout builtin_layout_27();

// The layout a target's _Py_DebugOffsets describe (3.13+): the offsets it carries, the
// built-in table of the nearest known minor for the few it lacks.
Expected<Layout> layout_from_debug_offsets(std::span<const uint8_t> bytes);

}  // namespace snag::python
