// Python Frames: walking one thread's frame chain into functions, files and lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "python/layout.hpp"
#include "python/memory.hpp"
#include "python/objects.hpp"

namespace snag::python {

struct PyFrame {
    std::string function;      // qualified name on 3.11+, co_name before
    std::string file;
    int line = 0;              // 0 = unknown, -1 = instruction without a line
    int end_line = 0, column = -1, end_column = -1;  // 3.11+ positions; -1 = unknown
    uint64_t address = 0;      // PyFrameObject* or _PyInterpreterFrame*
    uint64_t code = 0;
    bool entry = false;        // first frame executed by its own C call of the eval loop
    std::vector<std::pair<std::string, std::string>> locals;  // name, repr (when asked)
    // libpython reprs only: "a=1, b=<...>" as gdb's frame summary writes them, one repr of all
    // locals (an instance shown for one local is <...> in the next), uncut.
    std::string locals_line;
    std::vector<uint64_t> stack_values;  // value-stack slots (bounded by co_stacksize)
    int live_slots = -1;       // slots in use where known: 3.14+ always, 3.11–3.13 for a frame that called Python code
    int opcode = -1;           // the instruction the frame runs (≤3.11); -1 = not read
};

struct FrameChain {
    std::vector<PyFrame> frames;  // innermost first
    std::string error;            // why the walk stopped early
    uint64_t c_stack_entry = 0;   // 3.12+: the outermost entry frame, which lives on the C stack
};

// What a frame needs from its code object, read once per code object.
struct CodeInfo {
    bool valid = false;
    std::string name, qualname, file;
    int firstlineno = 0;
    std::string linetable;
    int64_t code_units = 0;       // 3.11+: Py_SIZE(code)
    int stacksize = 0, nlocals = 0, firsttraceable = 0;
    std::vector<std::string> local_names;  // locals, then cells, then frees
    std::vector<uint8_t> local_kinds;      // 3.11+ kinds, parallel to local_names
};

// The namespaces a frame's names resolve in after its locals (py-print's global and builtin).
struct FrameNamespaces {
    uint64_t globals = 0, builtins = 0;  // dicts; 0 when unreadable
};

// f_globals and f_builtins of a frame: PyFrameObject's after f_code (≤3.10, 2.7), the
// _PyInterpreterFrame's after f_func (3.11) or after f_funcobj (3.12+); checked to be dicts.
FrameNamespaces frame_namespaces(Memory& memory, Objects& objects, const Layout& layout, uint64_t frame);

class FrameWalker {
public:
    FrameWalker(Memory& memory, Objects& objects, const Layout& layout)
        : mem_(memory), obj_(objects), l_(layout) {}

    // Walks from a thread's newest frame; locals are rendered when with_locals. datastack_chunk
    // (the thread's newest _PyStackChunk, 3.13+) lets the walk step over a frame it cannot read.
    FrameChain walk(uint64_t first_frame, bool with_locals, const ReprLimits& limits,
                    size_t max_frames = 4096, uint64_t datastack_chunk = 0);
    const CodeInfo& code_info(uint64_t code);

private:
    bool read_legacy(uint64_t frame, PyFrame& out, bool with_locals, const ReprLimits& limits);
    // Returns false for frames CPython hides (shims, C-stack entries, incomplete frames).
    bool read_interpreter_frame(uint64_t frame, PyFrame& out, bool with_locals,
                                const ReprLimits& limits, std::string& error);
    // The Python frame pushed on the data stack just before `frame`: 0 when `frame` is the
    // thread's first, nullopt when the data stack does not tell.
    std::optional<uint64_t> frame_below(uint64_t frame, uint64_t datastack_chunk);
    uint64_t bytecode_of(uint64_t frame, uint64_t code);  // the instructions this frame runs
    int live_slots(uint64_t frame, uint64_t stack, size_t nlocals, size_t depth);  // -1: unknown
    void fill_locals(PyFrame& out, const CodeInfo& code, uint64_t slots, const ReprLimits& limits);
    uint64_t deref(uint64_t slot_value) const { return l_.tagged_refs ? slot_value & ~3ull : slot_value; }

    Memory& mem_;
    Objects& obj_;
    const Layout& l_;
    std::unordered_map<uint64_t, CodeInfo> codes_;
};

}  // namespace snag::python
