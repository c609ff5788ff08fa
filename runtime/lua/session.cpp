// Session lifetime, stacks and selection, and the accessors the command language evaluates with.
#include "lua/session.hpp"

#include "base/hex.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "lua/lua_support.hpp"
#include "lua/python_cache.hpp"
#include "lua/registers.hpp"
#include "lua/sandbox.hpp"
#include "lua/stdlib_files.hpp"
#include "symbols/symbol_names.hpp"
#include "unwind/frame_states.hpp"

namespace snag {

namespace fs = std::filesystem;

namespace {

// An explicit directory (option, $SNAG_STDLIB) wins over the stdlib compiled into the binary.
std::string explicit_stdlib(const SessionOptions& options) {
    if (!options.stdlib_dir.empty()) return options.stdlib_dir;
    if (const char* env = std::getenv("SNAG_STDLIB"); env && *env) return env;
    return "";
}

std::string disk_stdlib() {
    std::error_code ec;
    std::string source = std::string(SNAG_SOURCE_DIR) + "/stdlib";
    if (fs::is_directory(source + "/snag", ec)) return source;
    return std::string(SNAG_DATA_DIR) + "/stdlib";
}

std::string user_commands_dir() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg) return std::string(xdg) + "/snag/commands";
    const char* home = std::getenv("HOME");
    return home ? std::string(home) + "/.config/snag/commands" : std::string();
}

}  // namespace

Expected<std::unique_ptr<Session>> Session::open(std::unique_ptr<Target> target,
                                                 const SessionOptions& options) {
    auto symbols = make_symbolizer(*target, SymbolizerOptions{.source_lines = options.source_lines});
    if (!symbols) return std::unexpected(symbols.error());
    auto unwinder = make_unwinder(*target, **symbols);
    return create(std::move(target), std::move(*symbols), std::move(unwinder), options);
}

Expected<std::unique_ptr<Session>> Session::create(std::unique_ptr<Target> target,
                                                   std::unique_ptr<Symbolizer> symbols,
                                                   std::unique_ptr<Unwinder> unwinder,
                                                   const SessionOptions& options) {
    std::unique_ptr<Session> s(new Session());
    s->target_ = std::move(target);
    s->symbols_ = std::move(symbols);
    s->unwinder_ = std::move(unwinder);
    s->options_ = options;
    if (!s->target_->threads().empty()) s->selected_tid_ = s->target_->threads().front().tid;
    if (auto started = s->start_lua(); !started) return std::unexpected(started.error());
    if (auto loaded = s->load_stdlib(); !loaded) return std::unexpected(loaded.error());
    if (options.user_commands) s->load_user_commands();
    for (const auto& file : options.load_files)
        if (auto loaded = s->load_commands(file); !loaded) return std::unexpected(loaded.error());
    return s;
}

Session::~Session() {
    if (L_) lua_close(L_);
    delete heap_;
}

Expected<void> Session::start_lua() {
    heap_ = new LuaHeap();
    heap_->budget = options_.budget.memory_bytes;
    heap_->instruction_budget = options_.budget.instructions;
    heap_->writable_paths = options_.writable_paths;
    L_ = new_sandboxed_state(heap_);
    if (L_ == nullptr) return fail("cannot create the Lua state (out of memory)");
    outputs_.push_back(&std::cout);
    heap_->relaxed++;
    SessionAccess::attach(L_, this);
    bind_session(L_);
    bind_target(L_, *this);
    bind_threads(L_);
    bind_frames(L_);
    bind_modules(L_);
    bind_types(L_);
    bind_python(L_);
    bind_control(L_);
    heap_->relaxed--;
    return {};
}

Expected<void> Session::load_stdlib() {
    std::string user = user_commands_dir();
    if (!user.empty()) heap_->readable_dirs.push_back(fs::path(user).parent_path().string());
    std::string dir = explicit_stdlib(options_);
    if (dir.empty() && kStdlibFileCount > 0) return load_embedded_stdlib(L_);
    if (dir.empty()) dir = disk_stdlib();
    std::error_code ec;
    if (!fs::is_directory(dir + "/snag", ec))
        return fail("cannot find snag's Lua stdlib in " + dir + "; set SNAG_STDLIB to its directory");
    heap_->readable_dirs.push_back(dir);
    lua_getglobal(L_, "package");
    push_string(L_, dir + "/?.lua;" + dir + "/?/init.lua");
    lua_setfield(L_, -2, "path");
    lua_pop(L_, 1);
    // snag.command defines the registry and the global `command`; then one file per family.
    lua_getglobal(L_, "require");
    lua_pushstring(L_, "snag.command");
    if (auto ok = protected_call(L_, 1, 0); !ok) return fail("stdlib: " + ok.error().message);
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir + "/commands", ec))
        if (entry.path().extension() == ".lua") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& file : files)
        if (auto ok = load_commands(file); !ok) return fail("stdlib: " + ok.error().message);
    return {};
}

// A broken user command file must not stop the debugger: report it and go on.
void Session::load_user_commands() {
    std::string dir = user_commands_dir();
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) return;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".lua") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& file : files)
        if (auto ok = load_commands(file); !ok)
            std::fprintf(stderr, "snag: %s: %s\n", file.c_str(), ok.error().message.c_str());
}

Expected<void> Session::load_commands(const std::string& path) {
    std::error_code ec;
    std::string dir = fs::absolute(path, ec).parent_path().string();
    if (std::find(heap_->readable_dirs.begin(), heap_->readable_dirs.end(), dir) ==
        heap_->readable_dirs.end())
        heap_->readable_dirs.push_back(dir);
    // snag.command records which file registers each command.
    lua_getglobal(L_, "snag");
    push_string(L_, path);
    lua_setfield(L_, -2, "_loading");
    lua_pop(L_, 1);
    auto loaded = load_file(L_, path);
    if (!loaded) return loaded;
    auto ran = protected_call(L_, 0, 0);
    lua_getglobal(L_, "snag");
    lua_pushnil(L_);
    lua_setfield(L_, -2, "_loading");
    lua_pop(L_, 1);
    return ran;
}

void Session::allow_writes_to(const std::string& path) { heap_->writable_paths.push_back(path); }

void Session::request_interrupt() noexcept { g_lua_interrupt = 1; }
bool Session::interrupt_requested() noexcept { return g_lua_interrupt != 0; }
void Session::clear_interrupt() noexcept { g_lua_interrupt = 0; }

// ---- stacks and selection ----

Session::CachedStack& Session::cached_stack(int tid) {
    for (auto& c : stacks_)
        if (c->tid == tid) return *c;
    auto c = std::make_unique<CachedStack>();
    c->tid = tid;
    const Thread* thread = target_->thread(tid);
    if (thread == nullptr) c->native.error = "no thread " + std::to_string(tid);
    else if (!unwinder_) c->native.error = "no unwinder in this session";
    else c->native = unwinder_->unwind(*thread);
    stacks_.push_back(std::move(c));
    return *stacks_.back();
}

const NativeStack& Session::native_stack(int tid) { return cached_stack(tid).native; }

const std::vector<StackFrame>& Session::frames(int tid) {
    CachedStack& c = cached_stack(tid);
    if (c.frames) return *c.frames;
    std::vector<StackFrame> frames;
    std::vector<uint64_t> pcs;
    for (const NativeFrame& f : c.native.frames) pcs.push_back(f.pc);
    symbols_->prepare(pcs);  // this stack's debug files inflated together, before the first line lookup
    bool after_signal = false;
    for (size_t i = 0; i < c.native.frames.size(); ++i) {
        const NativeFrame& f = c.native.frames[i];
        // Return addresses point after the call: symbolize pc-1, except right above a signal frame.
        bool call_site = i > 0 && !after_signal;
        for (auto& sym : symbols_->symbolize(f.pc, call_site))
            frames.push_back(StackFrame{i, f.pc, f.sp, std::move(sym)});
        after_signal = f.is_signal_frame;
    }
    c.frames = std::move(frames);
    return *c.frames;
}

std::optional<std::vector<LocalVariable>> Session::frame_locals(int tid, size_t index, FrameLocals::Kind kind) {
    const auto& all = frames(tid);
    const Thread* thread = target_->thread(tid);
    if (index >= all.size() || !thread || !all[index].symbol.module) return std::nullopt;
    const StackFrame& f = all[index];
    size_t inline_depth = 0;  // inlined calls at this pc nearer the innermost frame
    for (size_t i = index; i > 0 && all[i - 1].physical == f.physical; --i) ++inline_depth;
    // This frame and the ones above it: entry values are read from the callers' call sites.
    std::vector<CallerFrame> chain = frame_states(thread, native_stack(tid), f.physical, *symbols_);
    if (chain.empty()) return std::nullopt;
    if (!frame_locals_)
        frame_locals_ = std::make_unique<FrameLocals>(
            *target_, [this](uint64_t a) { return symbolic_address(a); },
            [this](const Module& m) { return symbols_->dwarf_at(m.start); }, [this] { return symbols_->call_sites(); });
    return frame_locals_->locals(*f.symbol.module, chain[0].state, inline_depth, kind, std::span(chain).subspan(1));
}

Expected<void> Session::select_thread(int tid) {
    if (target_->thread(tid) == nullptr) return fail("Invalid thread ID: " + std::to_string(tid));
    selected_tid_ = tid;
    selected_frame_ = 0;
    return {};
}

Expected<void> Session::select_frame(size_t index) {
    if (index >= frames(selected_tid_).size()) return fail("No frame at level " + std::to_string(index) + ".");
    selected_frame_ = index;
    return {};
}

void Session::target_resumed() {
    ++generation_;
    stacks_.clear();
    python_.reset();
    selected_frame_ = 0;
}

// ---- accessors for expressions ----

std::optional<ConvenienceValue> Session::convenience(std::string_view name) const {
    for (const auto& [n, v] : convenience_)
        if (n == name) return v;
    return std::nullopt;
}

std::vector<std::string> Session::convenience_names() const {
    std::vector<std::string> out;
    for (const auto& [n, v] : convenience_) out.push_back(n);
    return out;
}

void Session::set_convenience(std::string_view name, ConvenienceValue value) {
    for (auto& [n, v] : convenience_)
        if (n == name) {
            v = std::move(value);
            return;
        }
    convenience_.emplace_back(std::string(name), std::move(value));
}

Expected<uint64_t> Session::register_value(std::string_view name) {
    const Thread* thread = target_->thread(selected_tid_);
    if (thread == nullptr || !thread->has_registers) return fail("No registers.");
    if (selected_frame_ == 0) {
        if (auto v = register_by_name(thread->regs, name)) return *v;
        return fail("Invalid register `" + std::string(name) + "'");
    }
    const auto& fr = frames(selected_tid_);
    const auto& natives = native_stack(selected_tid_).frames;
    if (selected_frame_ >= fr.size() || fr[selected_frame_].physical >= natives.size())
        return fail("No frame selected.");
    const NativeFrame& native = natives[fr[selected_frame_].physical];
    // gdb's rule on x86_64: registers the CFI does not describe keep the inner frame's value.
    auto v = register_by_name(is_callee_saved(name) ? native.regs : thread->regs, name);
    if (!v) return fail("Invalid register `" + std::string(name) + "'");
    return *v;
}

Expected<std::string> Session::register_bytes(std::string_view name) {
    const Thread* thread = target_->thread(selected_tid_);
    if (thread == nullptr || !thread->has_registers) return fail("No registers.");
    // Not unwound: no x86_64 ABI saves vector registers across calls, and gdb shows these too.
    if (thread->vector)
        if (auto bytes = vector_register(*thread->vector, name)) return *bytes;
    return fail("Invalid register `" + std::string(name) + "'");
}

Expected<std::string> Session::read_memory(uint64_t addr, size_t n) {
    std::string bytes(n, '\0');
    size_t got = target_->read(addr, bytes.data(), n);
    if (got < n) return fail("Cannot access memory at address " + hex(addr + got));
    return bytes;
}

Expected<uint64_t> Session::symbol_address(std::string_view name) {
    if (auto a = symbols_->address_of(name)) return *a;
    return fail("No symbol \"" + std::string(name) + "\" in current context.");
}

std::optional<std::string> Session::symbolic_address(uint64_t addr) {
    auto syms = symbols_->symbolize(addr, false);
    if (!syms.empty() && !syms.back().function.empty()) {
        const Symbol& s = syms.back();  // outermost: the function that owns the code
        return s.offset ? s.function + "+" + std::to_string(s.offset) : s.function;
    }
    auto data = symbols_->symbol_at(addr);  // {name, offset of addr in it}
    if (!data) return std::nullopt;
    return data->second ? data->first + "+" + std::to_string(data->second) : data->first;
}

}  // namespace snag
