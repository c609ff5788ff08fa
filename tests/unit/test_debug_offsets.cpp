// _Py_DebugOffsets read through their per-version schema: the bytes of real CPython binaries
// (3.13.0 pyenv, the free-threaded 3.13.5t, Debian's 3.14.10 and 3.15.2), and the versions and damage snag must refuse.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "python/debug_offsets.hpp"
#include "python/layout.hpp"

using namespace snag::python;

namespace {

// The first bytes of _PyRuntime, as tests/unit/data/debug_offsets_<version>.hex keeps them.
std::vector<uint8_t> offsets_of(const std::string& version) {
    std::ifstream in(SNAG_SOURCE_DIR "/tests/unit/data/debug_offsets_" + version + ".hex");
    std::string hex;
    in >> hex;
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(std::stoi(hex.substr(i, 2), nullptr, 16));
    return bytes;
}

void set_u64(std::vector<uint8_t>& bytes, size_t at, uint64_t v) { std::memcpy(bytes.data() + at, &v, 8); }

// Byte position of a field in the 3.15 struct: header, runtime_state (3), interpreter_state (16).
constexpr size_t kThreadState315 = 24 + 8 * 3 + 8 * 16;

}  // namespace

TEST_CASE("the _Py_DebugOffsets of libpython3.13 give the verified 3.13 layout") {
    auto bytes = offsets_of("3.13.0");
    REQUIRE(bytes.size() == 584);
    auto l = layout_from_debug_offsets(bytes);
    REQUIRE(l.has_value());
    auto table = builtin_layout(13);
    CHECK(l->source == "_Py_DebugOffsets 3.13.0");
    CHECK(l->debug_offsets->struct_size == 584);
    CHECK(l->rt_interpreters_head == table->rt_interpreters_head);
    CHECK(l->is_threads_head == table->is_threads_head);
    CHECK(l->is_ceval_gil == table->is_ceval_gil);
    CHECK(l->gil_locked == table->gil_locked);
    CHECK(l->gil_last_holder == table->gil_last_holder);
    CHECK(l->ts_current_frame == table->ts_current_frame);
    CHECK(l->ts_native_thread_id == table->ts_native_thread_id);
    CHECK(l->fr_owner == table->fr_owner);
    CHECK(l->co_code_adaptive == table->co_code_adaptive);
    CHECK(l->co_qualname == table->co_qualname);
    CHECK(l->is_gc_collecting == table->is_gc_collecting);
    CHECK(l->str_ascii_size == 40);
    CHECK(l->str_compact_size == 56);
    bytes[0] = 'X';  // a broken cookie is no debug block at all
    CHECK_FALSE(layout_from_debug_offsets(bytes).has_value());
}

TEST_CASE("a free-threaded 3.13.5t: fields the offsets lack move past the 32-byte object header") {
    // .PyRuntime of the libpython3.13t that scripts/make-python-ft builds; expected values are
    // its DWARF (gdb: print &((PyFunctionObject*)0)->func_qualname ...).
    auto l = layout_from_debug_offsets(offsets_of("3.13.5t"));
    REQUIRE(l.has_value());
    auto table = builtin_layout(13);
    CHECK(l->free_threaded);
    CHECK(l->source == "_Py_DebugOffsets 3.13.5 (free-threaded)");
    CHECK(l->ob_type == 24);
    CHECK(l->header_extra() == 16);
    CHECK(l->co_name == table->co_name + 16);             // from the offsets
    CHECK(l->co_stacksize == 80);                         // from the table, moved
    CHECK(l->co_firsttraceable == 200);
    CHECK(l->gen_iframe == 88);
    CHECK(l->func_qualname == 56);
    CHECK(l->ht_qualname == 888);
    CHECK(l->tp_basicsize == 48);
    CHECK(l->module_dict == 32);
    CHECK(l->long_tag == 32);
    CHECK(l->dict_split_values_header == 8);              // inside the values array: not moved
    CHECK(l->ts_current_frame == table->ts_current_frame);  // thread states are no objects
    CHECK(l->ts_state == 40);
    CHECK(l->gil_enabled == 0);                           // first field of _gil_runtime_state
    CHECK(l->gil_locked == 24);
    CHECK(l->fr_tlbc_index == kAbsent);                   // thread-local bytecode came in 3.14
    CHECK_FALSE(layout_from_debug_offsets(offsets_of("3.13.0"))->free_threaded);
}

TEST_CASE("Debian's python3.14 3.14.10: 760 bytes, tagged frames, owner at 74") {
    auto l = layout_from_debug_offsets(offsets_of("3.14.10"));
    REQUIRE(l.has_value());
    CHECK(l->source == "_Py_DebugOffsets 3.14.10");
    CHECK(l->minor == 14);
    CHECK(l->debug_offsets->struct_size == 760);
    CHECK(l->tagged_refs);
    CHECK(l->rt_interpreters_head == 808);
    CHECK(l->is_threads_head == 7344);
    CHECK(l->is_modules == 7688);
    CHECK(l->gil_locked == 16);
    CHECK(l->gil_last_holder == 8);
    CHECK(l->ts_thread_id == 152);
    CHECK(l->ts_native_thread_id == 160);
    CHECK(l->fr_owner == 74);
    CHECK(l->fr_localsplus == 80);
    CHECK(l->tuple_items == 32);
    CHECK(l->set_table == 40);
    CHECK(l->gen_iframe == 72);
    CHECK(l->is_gc_collecting == 7408 + 192);
    CHECK(l->ts_holds_gil == kAbsent);
    CHECK(l->ts_current_exception == 112);  // DWARF of python3.14-dbg
    CHECK(l->ts_exc_info == 120);
}

TEST_CASE("Debian's python3.15 3.15.2: 888 bytes, thread state grown, new sections") {
    auto l = layout_from_debug_offsets(offsets_of("3.15.2"));
    REQUIRE(l.has_value());
    const DebugOffsets& d = *l->debug_offsets;
    CHECK(l->source == "_Py_DebugOffsets 3.15.2");
    CHECK(d.struct_size == 888);
    CHECK(d.get("thread_state", "last_profiled_frame_seq") == 96u);
    CHECK(d.get("err_stackitem", "exc_value") == 0u);
    CHECK(d.get("debugger_support", "debugger_script_path_size") == 512u);
    CHECK(l->rt_interpreters_head == 936);
    CHECK(l->ts_current_frame == 72);
    CHECK(l->ts_thread_id == 176);
    CHECK(l->ts_native_thread_id == 184);
    CHECK(l->ts_current_exception == 136);
    CHECK(l->ts_holds_gil == 36);
    CHECK(l->ts_exc_info == 144);  // DWARF of python3.15-dbg
    CHECK(l->fr_back == 8);
    CHECK(l->fr_owner == 74);
    CHECK(l->co_code_adaptive == 208);
    CHECK(l->tp_dictoffset == 288);
    CHECK(l->ht_qualname == 880);
    CHECK(l->str_compact_size == 56);
    CHECK(l->gen_frame_state == 67);
}

TEST_CASE("3.15 betas before b4 have no last_profiled_frame_seq: 880 bytes, same offsets") {
    auto bytes = offsets_of("3.15.2");
    bytes.erase(bytes.begin() + kThreadState315 + 8 * 7, bytes.begin() + kThreadState315 + 8 * 8);
    set_u64(bytes, 8, 0x030f00b3);
    auto l = layout_from_debug_offsets(bytes);
    REQUIRE(l.has_value());
    CHECK(l->source == "_Py_DebugOffsets 3.15.0b3");
    CHECK(l->debug_offsets->struct_size == 880);
    CHECK_FALSE(l->debug_offsets->has("thread_state", "last_profiled_frame_seq"));
    CHECK(l->ts_thread_id == 176);
    CHECK(l->fr_owner == 74);
    CHECK(l->ht_qualname == 880);
}

TEST_CASE("versions without a schema and damaged offsets are refused with the version named") {
    auto bytes = offsets_of("3.15.2");
    set_u64(bytes, 8, 0x030f00a5);  // an alpha: its struct is not the final's
    auto alpha = layout_from_debug_offsets(bytes);
    REQUIRE_FALSE(alpha.has_value());
    CHECK(alpha.error().message.find("Python 3.15.0a5 is not supported") != std::string::npos);
    CHECK(alpha.error().exit_code == 2);
    set_u64(bytes, 8, 0x031000f0);
    auto next = layout_from_debug_offsets(bytes);
    REQUIRE_FALSE(next.has_value());
    CHECK(next.error().message.find("Python 3.16.0 is not supported") != std::string::npos);
    set_u64(bytes, 8, 0x030f03f0);  // a later patch release reads as 3.15
    CHECK(layout_from_debug_offsets(bytes).has_value());
    set_u64(bytes, kThreadState315 + 8 * 8, 5000);  // thread_id past the 888-byte thread state
    auto damaged = layout_from_debug_offsets(bytes);
    REQUIRE_FALSE(damaged.has_value());
    CHECK(damaged.error().message.find("thread_state.thread_id") != std::string::npos);
}

TEST_CASE("version strings name pre-releases") {
    CHECK(full_version_string(0x030f02f0) == "3.15.2");
    CHECK(full_version_string(0x030f00b4) == "3.15.0b4");
    CHECK(full_version_string(0x030e00c1) == "3.14.0rc1");
    CHECK(full_version_string(0x030f00a2) == "3.15.0a2");
}
