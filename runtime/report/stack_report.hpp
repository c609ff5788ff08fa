// Stack Trace Collection as data: what `bt` and `py-bt` print, in text or the JSON "stacks" shape.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace snag {

// One argument of a native frame, as gdb's frame line shows it.
struct FrameArgument {
    std::string name;
    std::string value;                       // "0x7f…", "<optimized out>", "..." for structs
    std::optional<std::string> entry_value;  // gdb's `name@entry`: what the caller passed, when known
};

struct FrameReport {
    enum class Kind { Native, Python };
    Kind kind = Kind::Native;
    uint64_t pc = 0;           // native only
    std::string function;      // demangled native name or Python (qual)name; empty = unknown
    uint64_t offset = 0;       // native: pc - function start
    std::string module;        // native: module path
    std::string file;          // source file (DWARF or co_filename)
    int line = 0;              // 0 = unknown
    int end_line = 0, column = -1, end_column = -1;  // Python 3.11+: the instruction's source range
    bool inlined = false;      // native: an inlined call at the same pc
    size_t physical = 0;       // native: index of the unwound frame this one comes from
    size_t inline_depth = 0;   // native: inlined calls nearer the innermost frame at that pc
    // native: the function's arguments as gdb's frame lines show them ("lock", "0x7f…"), from
    // DWARF; nullopt when not computed or the function has no DWARF.
    std::optional<std::vector<FrameArgument>> args;
    std::vector<std::pair<std::string, std::string>> locals;  // name, repr (Python --locals)
    int64_t interpreter = -1;  // Python: the id of the interpreter running the frame
    std::string note;          // e.g. "<shim>", "stack walk stopped: ..." shown after the frame
};

struct PythonThreadReport {
    uint64_t thread_id = 0;    // threading ident (pthread_self)
    bool gil = false;          // holds the GIL
    bool waiting_for_gil = false;
    bool gc = false;           // garbage collection running in this thread
    std::string status;        // "gil", "waiting for gil", "idle", ... as printed in the header
};

struct ThreadReport {
    int tid = 0;
    std::string name;
    char state = '?';
    std::optional<double> cpu_user, cpu_system;  // seconds
    std::optional<PythonThreadReport> python;
    std::vector<FrameReport> frames;             // innermost first
    std::string error;                           // why the stack is partial, empty if complete
};

struct StackReport {
    // "target" object of the JSON shape: kind, pid, core path, executable, signal...
    // Values that are plain decimal integers are written as JSON numbers.
    std::vector<std::pair<std::string, std::string>> target;
    std::vector<ThreadReport> threads;
    std::vector<std::string> warnings;
};

void print_stacks_text(std::ostream& out, const StackReport& report);
void print_stacks_json(std::ostream& out, const StackReport& report);

}  // namespace snag
