// Merged stacks: native frames of the eval loop replaced by the Python frames they execute.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "python/frames.hpp"
#include "python/threads.hpp"
#include "report/stack_report.hpp"

namespace snag::python {

struct MergedStack {
    std::vector<FrameReport> frames;  // innermost first
    bool merged = false;              // false: counts disagreed, native then Python frames shown
    std::string note;                 // why the stacks were not merged
};

// True for the C function that runs Python frames (_PyEval_EvalFrameDefault, all versions).
bool is_eval_loop(const std::string& function);

// ≤3.10: one eval-loop call per frame; 3.11+: one per run of frames ending at an entry frame.
MergedStack merge_stacks(const std::vector<FrameReport>& native, const std::vector<PyFrame>& python);

// A thread inside take_gil/PyEval_RestoreThread/PyGILState_Ensure is waiting for the GIL.
bool native_stack_waits_for_gil(const std::vector<FrameReport>& native);

// A thread whose native stack holds CPython's collector (gc_collect_main & co., 3.6–3.14) runs
// a garbage collection, even while a finalizer it called waits without the GIL.
bool native_stack_collects_garbage(const std::vector<FrameReport>& native);

// Marks the threads whose native stack (TID → whole stack) runs the collector; where none does
// (no symbols), read_python_state's guess, the GIL holder, stays.
void mark_collecting_threads(PythonState& state, const std::map<int, std::vector<FrameReport>>& native);

FrameReport python_frame_report(const PyFrame& frame);

}  // namespace snag::python
