// py-bt reports: Python thread stacks (optionally merged with native ones) as text and JSON.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "python/threads.hpp"
#include "report/stack_report.hpp"

namespace snag::python {

struct PyThreadView {
    const PyThread* python = nullptr;  // null for OS threads without a thread state (--native)
    // Thread states of the interpreters this thread entered `python` from (run_string into a
    // subinterpreter), innermost first: their frames follow python's in `frames`.
    std::vector<const PyThread*> entered_from;
    int tid = 0;
    std::string name;                  // Python name, else the OS thread name
    char state = '?';
    std::string status;                // "holds the GIL", "waiting for the GIL", "idle", ...
    std::vector<FrameReport> frames;   // innermost first
    std::string error;
};

struct PyReport {
    std::vector<std::pair<std::string, std::string>> target;  // describe_target()
    const PythonState* state = nullptr;
    std::vector<PyThreadView> threads;
    std::vector<std::string> warnings;
};

// The thread states each OS thread runs, innermost interpreter first: a thread that entered a
// subinterpreter (run_string) keeps its outer thread state, whose eval loops sit deeper on the
// same C stack (higher addresses). Thread states without frames add nothing and are left out
// unless the thread has no other; thread states without an OS thread are one group each.
std::vector<std::vector<const PyThread*>> threads_by_os_thread(const PythonState& state);

// The thread header's word: "holds the GIL", "waiting for the GIL", "idle", "running without
// the GIL" (idle but on a CPU: os_state 'R'), plus ", collecting garbage" / ", no OS thread".
std::string thread_status(const PythonState& state, const PyThread& t, char os_state);

// Builds the per-thread views. native_frames maps TID → symbolized native frames (empty map when
// native stacks were not collected); merge puts the Python frames in place of eval-loop frames.
PyReport build_py_report(const PythonState& state, const std::vector<Thread>& os_threads,
                         const std::map<int, std::vector<FrameReport>>& native_frames, bool merge);

// positions: 3.11+ frames as FILE:LINE:COL-END_LINE:END_COL (columns from 1, as compilers print).
void print_py_text(std::ostream& out, const PyReport& report, bool verbose, bool positions = false);
void print_py_json(std::ostream& out, const PyReport& report);

}  // namespace snag::python
