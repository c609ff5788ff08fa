// Session: one debugging session — the target, its symbols and stacks, the Lua state with the
// stdlib commands, the thread/frame selection and gdb's convenience variables. Front ends
// (command language, REPL, `snag lua`) talk to the target only through this class.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/error.hpp"
#include "symbols/frame_locals.hpp"
#include "symbols/symbolizer.hpp"
#include "target/target.hpp"
#include "unwind/unwinder.hpp"

struct lua_State;

namespace snag {

struct PythonCache;  // runtime/lua/python_cache.hpp: CPython state read once per stop
class SymbolNames;  // runtime/symbols/symbol_names.hpp: sorted symbol names for completion

// A command registered from Lua with command{ name=, aliases=, help=, args=, live_only=, run= }.
struct CommandInfo {
    std::string name;                  // may contain spaces: "info threads", "thread apply"
    std::vector<std::string> aliases;  // "bt" → {"backtrace", "where"}
    std::string help;                  // first line is the summary shown by `help`
    std::string args;                  // argument synopsis, e.g. "[full] [N]"
    bool live_only = false;            // refuses to run on a core, saying so
    std::string source;                // file that registered it
};

// A gdb convenience variable ($x): an integer or a string.
using ConvenienceValue = std::variant<int64_t, std::string>;

// What the command language needs to dereference `*(T *)addr` and print a value of type T.
struct ValueType {
    enum class Kind { Signed, Unsigned, Bool, Char, Float, Pointer, Enum, Struct, Union, Array,
                      Function, Void, Other };
    std::string name;     // normalised C spelling: "long", "char *", "struct foo"
    Kind kind = Kind::Other;
    uint64_t size = 0;    // bytes (pointers: 8)
    std::string pointee;  // Pointer/Array: the element type's name
};

// Limits applied to every Lua chunk a session runs (commands, `lua CODE`, scripts).
struct LuaBudget {
    uint64_t instructions = 2'000'000'000;  // VM instructions per top-level call; 0 = unlimited
    size_t memory_bytes = 1ull << 30;       // total Lua heap; 0 = unlimited
};

struct SessionOptions {
    std::vector<std::string> load_files;  // --load FILE: extra command files, loaded last
    bool user_commands = true;            // load ~/.config/snag/commands/*.lua
    std::string stdlib_dir;               // empty: $SNAG_STDLIB, else the stdlib compiled in
    LuaBudget budget;
    // Paths Lua may write with io.open(path, "w") (report files the user named); reads are free.
    std::vector<std::string> writable_paths;
    // Inflate a debug file whole when first opened (see SymbolizerOptions): for sessions that
    // will symbolize native stacks anyway (analyze). Off, Python-only commands skip it and a
    // native stack inflates its files when it is first symbolized.
    bool source_lines = false;
};

// One frame as gdb numbers them: an inlined call is a frame of its own at the same pc.
struct StackFrame {
    size_t physical = 0;  // index into NativeStack::frames (registers, cfa)
    uint64_t pc = 0;
    uint64_t sp = 0;
    Symbol symbol;        // function, offset, module, source line
};

// Whether a piece of Lua is complete, needs more lines (REPL continuation) or is broken.
enum class LuaChunkStatus { Complete, Incomplete, Error };

class Session {
public:
    // Builds the symbolizer and unwinder over target, then loads the stdlib and user commands.
    static Expected<std::unique_ptr<Session>> open(std::unique_ptr<Target> target,
                                                   const SessionOptions& options = {});
    // For tests and embedders that bring their own Symbolizer/Unwinder (test doubles).
    static Expected<std::unique_ptr<Session>> create(std::unique_ptr<Target> target,
                                                     std::unique_ptr<Symbolizer> symbols,
                                                     std::unique_ptr<Unwinder> unwinder,
                                                     const SessionOptions& options = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    Target& target() { return *target_; }
    Symbolizer& symbols() { return *symbols_; }
    Unwinder& unwinder() { return *unwinder_; }

    // ---- commands (registered in Lua) ----
    bool has_command(std::string_view name) const;  // name or alias, exact
    std::vector<CommandInfo> commands() const;       // sorted by name
    // Longest registered command (or alias, or unique word prefixes like "info reg") that starts
    // `line`: {canonical name, the rest of the line as its arguments}.
    std::optional<std::pair<std::string, std::string>> match_command(std::string_view line) const;
    // Runs a command by name or alias; its output goes to out. Errors are one sentence.
    Expected<void> run_command(std::string_view name, std::string_view args, std::ostream& out);
    Expected<std::string> run_command(std::string_view name, std::string_view args);

    // Full command lines (`cmd("thread apply all py-bt")` in Lua, `thread apply ... CMD`) go
    // through the command language when it registers itself here; otherwise match_command().
    using LineRunner = std::function<Expected<void>(std::string_view line, std::ostream& out)>;
    void set_line_runner(LineRunner runner) { line_runner_ = std::move(runner); }
    Expected<void> run_line(std::string_view line, std::ostream& out);

    // Loads a Lua file that registers commands (Debugger Extension, --load FILE).
    Expected<void> load_commands(const std::string& path);

    // ---- completion (REPL tab) ----
    // Function and data symbol names of the target's modules starting with prefix, sorted; the
    // index is read from the ELF symbol tables on first use. limit 0: all of them.
    std::vector<std::string> symbol_names(std::string_view prefix, size_t limit = 0);
    // Candidates for the argument word being typed after command (name or alias), from the
    // command's `complete` field (snag.command.complete); args_before: the words before it.
    std::vector<std::string> complete_argument(std::string_view command, std::string_view args_before,
                                               std::string_view word);

    // ---- Lua ----
    // `lua CODE` / `=CODE`: tries "return CODE" first, like lua.c. Output of print() goes to out;
    // the returned string holds the chunk's results formatted as lua.c prints them (tab-separated,
    // no newline), empty when there are none — the caller prints it.
    Expected<std::string> eval_lua(std::string_view code, std::ostream& out);
    LuaChunkStatus lua_chunk_status(std::string_view code) const;
    // `snag lua FILE TARGET ARGS...`: runs a script with the global `arg` = ARGS (arg[0] = FILE).
    Expected<void> run_lua_file(const std::string& path, const std::vector<std::string>& args,
                                std::ostream& out);
    lua_State* lua() { return L_; }
    // Lets Lua's io.open write path (an output file the user named on the command line).
    void allow_writes_to(const std::string& path);

    // Ctrl-C: async-signal-safe; the running Lua code stops at its next instruction-count check
    // with "interrupted" (which consumes the flag). Front ends call clear_interrupt() before each
    // new command line so a stale Ctrl-C does not cancel it.
    static void request_interrupt() noexcept;
    // For C++ loops (gdb `while`): true once Ctrl-C was pressed; clear_interrupt() resets it.
    static bool interrupt_requested() noexcept;
    static void clear_interrupt() noexcept;

    // ---- selection (gdb's current thread and frame) ----
    int selected_thread() const { return selected_tid_; }  // OS tid; 0 when the target has none
    size_t selected_frame() const { return selected_frame_; }
    Expected<void> select_thread(int tid);
    Expected<void> select_frame(size_t index);  // into frames(selected_thread())
    // Cached per thread until the target resumes. native_stack() only unwinds; frames() also
    // symbolizes (file:line needs DWARF line tables), on first use.
    const NativeStack& native_stack(int tid);
    const std::vector<StackFrame>& frames(int tid);

    // Local variables (or arguments) of frames(tid)[index] as gdb's `bt full` / `info args`
    // print them (DWARF locations);
    // nullopt when its module has no DWARF for it ("No symbol table info available.").
    std::optional<std::vector<LocalVariable>> frame_locals(int tid, size_t index,
                                                           FrameLocals::Kind kind = FrameLocals::Kind::Locals);

    // ---- expression support for the command language ----
    std::optional<ConvenienceValue> convenience(std::string_view name) const;  // name without '$'
    void set_convenience(std::string_view name, ConvenienceValue value);
    std::vector<std::string> convenience_names() const;  // without '$', for completion
    // $rip, $pc, $sp, $fp, $eax, ... of the selected frame (name without '$'); gdb register names.
    Expected<uint64_t> register_value(std::string_view name);
    // xmmN/ymmN/mxcsr of the selected thread as bytes (outer frames show the innermost values).
    Expected<std::string> register_bytes(std::string_view name);
    // Exactly n bytes, or an error naming the first unreadable address.
    Expected<std::string> read_memory(uint64_t addr, size_t n);
    Expected<uint64_t> symbol_address(std::string_view name);
    // "main+4" for x/a and info symbol; nullopt when no symbol covers addr.
    std::optional<std::string> symbolic_address(uint64_t addr);
    // C base types, pointers to anything, and DWARF types (struct/union/enum/typedef) by name.
    Expected<ValueType> resolve_type(std::string_view name);
    // The TypeInfo behind resolve_type: DWARF first, then C base types; "T *" is synthesized.
    // nullptr when unknown. Owned by the session (or its Symbolizer).
    const TypeInfo* find_type(std::string_view name);
    // gdb's print text of the value of DWARF type `type` at address ({tv_sec = 1, tv_nsec = 0},
    // GREEN, 0.10000000000000001); nullopt when the type has no DWARF or the memory is unreadable.
    std::optional<std::string> typed_text(std::string_view type, uint64_t address);

    // ---- live-state handles ----
    // Bumped whenever the target resumes; Lua handles from an older generation raise a clear error.
    uint64_t generation() const { return generation_; }
    // Call after the target ran (live control): drops cached stacks and invalidates Lua handles.
    void target_resumed();

    // Where print() and command output currently go (a stack while commands nest).
    std::ostream& output() { return *outputs_.back(); }

private:
    Session() = default;
    Expected<void> start_lua();
    Expected<void> load_stdlib();
    void load_user_commands();
    const std::vector<CommandInfo>& command_list() const;  // cached; see session_commands.cpp

    friend struct SessionAccess;  // the Lua bindings (runtime/lua/*.cpp)

    std::unique_ptr<Target> target_;
    std::unique_ptr<Symbolizer> symbols_;
    std::unique_ptr<Unwinder> unwinder_;
    SessionOptions options_;
    lua_State* L_ = nullptr;
    struct LuaHeap* heap_ = nullptr;
    LineRunner line_runner_;
    mutable std::vector<CommandInfo> command_cache_;
    mutable long long command_cache_version_ = -1;
    std::vector<std::ostream*> outputs_;
    struct CachedStack {
        int tid = 0;
        NativeStack native;
        std::optional<std::vector<StackFrame>> frames;  // symbolized on first frames(tid)
    };
    CachedStack& cached_stack(int tid);
    std::vector<std::unique_ptr<CachedStack>> stacks_;
    std::vector<std::pair<std::string, ConvenienceValue>> convenience_;
    std::vector<std::unique_ptr<TypeInfo>> synthesized_types_;  // base types, pointers
    std::unique_ptr<PythonCache> python_;
    std::unique_ptr<SymbolNames> symbol_names_;
    std::unique_ptr<FrameLocals> frame_locals_;  // DWARF handles of its own, opened on first use
    size_t symbol_names_modules_ = 0;  // modules().size() when symbol_names_ was read
    int selected_tid_ = 0;
    size_t selected_frame_ = 0;
    uint64_t generation_ = 1;
};

}  // namespace snag
