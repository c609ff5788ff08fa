#include "python/merge.hpp"

#include <set>
#include <string_view>

namespace snag::python {

// GCC may split it (".cold") or rename a clone (".lto_priv.0"): the return address names the part.
// 2.7's eval loop is PyEval_EvalFrameEx; on 3.x that name only wraps _PyEval_EvalFrameDefault.
bool is_eval_loop(const std::string& function) {
    constexpr std::string_view kName = "_PyEval_EvalFrameDefault";
    if (function == "PyEval_EvalFrameEx") return true;
    return function.starts_with(kName) && (function.size() == kName.size() || function[kName.size()] == '.');
}

namespace {

// A 3.x PyEval_EvalFrameEx right outside _PyEval_EvalFrameDefault is the same eval-loop call.
bool is_eval_wrapper(const std::vector<FrameReport>& native, size_t i) {
    if (native[i].function != "PyEval_EvalFrameEx") return false;
    for (size_t j = i; j-- > 0;)
        if (!native[j].inlined) return native[j].function.starts_with("_PyEval_EvalFrameDefault");
    return false;
}

}  // namespace

bool native_stack_collects_garbage(const std::vector<FrameReport>& native) {
    // The collector's static helpers may be inlined into their callers: any of them will do.
    static const char* collectors[] = {
        "collect", "collect_with_callback", "collect_generations", "gc_collect_main", "gc_collect_with_callback",
        "gc_collect_generations", "gc_collect_full", "gc_collect_young", "gc_collect_increment",
        "gc_collect_region", "gc_collect_internal", "_PyGC_Collect", "PyGC_Collect", "_PyGC_CollectNoFail",
        "_Py_RunGC", "gc_collect", "gc_collect_impl", "finalize_garbage", "handle_legacy_finalizers",
        "handle_weakrefs", "delete_garbage", "invoke_gc_callback"};
    for (const auto& f : native) {
        std::string_view name = f.function;
        name = name.substr(0, name.find('.'));  // collect.constprop.0, gc_collect_main.lto_priv.0
        for (const char* collector : collectors)
            if (name == collector) return true;
    }
    return false;
}

void mark_collecting_threads(PythonState& state, const std::map<int, std::vector<FrameReport>>& native) {
    if (!state.gc_collecting) return;
    std::set<int> collecting;
    for (const auto& [tid, frames] : native)
        if (native_stack_collects_garbage(frames)) collecting.insert(tid);
    if (collecting.empty()) return;
    for (auto& t : state.threads) t.gc_running = t.tid && collecting.count(t.tid);
}

FrameReport python_frame_report(const PyFrame& frame) {
    FrameReport out;
    out.kind = FrameReport::Kind::Python;
    out.function = frame.function;
    out.file = frame.file;
    out.line = frame.line > 0 ? frame.line : 0;
    out.end_line = frame.end_line > 0 ? frame.end_line : 0;
    out.column = frame.column;
    out.end_column = frame.end_column;
    out.locals = frame.locals;
    return out;
}

MergedStack merge_stacks(const std::vector<FrameReport>& native, const std::vector<PyFrame>& python) {
    // Python frames grouped by the eval-loop call that runs them, innermost group first.
    std::vector<std::vector<const PyFrame*>> groups;
    std::vector<const PyFrame*> current;
    for (const auto& f : python) {
        current.push_back(&f);
        if (f.entry) {
            groups.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) groups.push_back(std::move(current));
    size_t eval_frames = 0;
    for (size_t i = 0; i < native.size(); ++i)
        if (!native[i].inlined && is_eval_loop(native[i].function) && !is_eval_wrapper(native, i)) ++eval_frames;

    MergedStack out;
    if (eval_frames != groups.size()) {
        out.note = "native stack has " + std::to_string(eval_frames) + " eval-loop frames for " +
                   std::to_string(groups.size()) + " groups of Python frames; both shown unmerged";
        out.frames = native;
        for (const auto& f : python) out.frames.push_back(python_frame_report(f));
        return out;
    }
    size_t group = 0;
    for (size_t i = 0; i < native.size(); ++i) {
        const FrameReport& f = native[i];
        if (f.inlined && is_eval_loop(f.function)) continue;
        if (is_eval_wrapper(native, i)) continue;
        if (!f.inlined && is_eval_loop(f.function)) {
            // Inlined helpers at the same pc belong to the eval loop being replaced.
            while (!out.frames.empty() && out.frames.back().kind == FrameReport::Kind::Native &&
                   out.frames.back().inlined && out.frames.back().pc == f.pc)
                out.frames.pop_back();
            for (const PyFrame* p : groups[group]) out.frames.push_back(python_frame_report(*p));
            ++group;
            continue;
        }
        out.frames.push_back(f);
    }
    out.merged = true;
    return out;
}

bool native_stack_waits_for_gil(const std::vector<FrameReport>& native) {
    static const char* acquirers[] = {"take_gil", "PyEval_RestoreThread", "PyEval_AcquireThread",
                                      "PyEval_AcquireLock", "PyGILState_Ensure", "_PyEval_AcquireLock"};
    for (const auto& f : native) {
        if (is_eval_loop(f.function)) return false;  // below the eval loop nothing waits for the GIL
        for (const char* name : acquirers)
            if (f.function == name) return true;
    }
    return false;
}

}  // namespace snag::python
