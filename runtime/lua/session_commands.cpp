// The Session's command surface: commands live in Lua (stdlib/snag/command.lua's registry);
// this file lists, matches and runs them, and evaluates Lua typed at the prompt.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>

#include "lua/lua_support.hpp"
#include "lua/sandbox.hpp"
#include "lua/session.hpp"
#include "symbols/symbol_names.hpp"

namespace snag {

namespace {

// Pushes package.loaded["snag.command"] (the registry module); false when the stdlib is absent.
bool push_command_module(lua_State* L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "snag.command");
    lua_remove(L, -2);
    if (lua_istable(L, -1)) return true;
    lua_pop(L, 1);
    return false;
}

std::string string_field(lua_State* L, int index, const char* key) {
    lua_getfield(L, index, key);
    size_t n = 0;
    const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : nullptr;
    std::string out = s ? std::string(s, n) : std::string();
    lua_pop(L, 1);
    return out;
}

CommandInfo read_spec(lua_State* L, int index) {
    CommandInfo info;
    info.name = string_field(L, index, "name");
    info.help = string_field(L, index, "help");
    info.args = string_field(L, index, "args");
    info.source = string_field(L, index, "source");
    lua_getfield(L, index, "live_only");
    info.live_only = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, index, "aliases") == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; ++i) {
            lua_rawgeti(L, -1, i);
            if (lua_type(L, -1) == LUA_TSTRING) info.aliases.emplace_back(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return info;
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        size_t start = i;
        while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i > start) words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

// Offset in line just after its k-th word, with following blanks skipped.
size_t after_words(std::string_view line, size_t k) {
    size_t i = 0;
    for (size_t w = 0; w < k; ++w) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    }
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    return i;
}

// Pushes tostring(v) for each value in [first, last] and joins them with tabs, like lua.c.
Expected<std::string> format_results(lua_State* L, int first, int last) {
    std::string text;
    for (int i = first; i <= last; ++i) {
        lua_getglobal(L, "tostring");
        lua_pushvalue(L, i);
        if (auto ok = protected_call(L, 1, 1); !ok) return std::unexpected(ok.error());
        size_t n = 0;
        const char* s = lua_tolstring(L, -1, &n);
        if (i > first) text += '\t';
        text.append(s ? s : "?", s ? n : 1);
        lua_pop(L, 1);
    }
    return text;
}

}  // namespace

// Read from Lua's registry again only when snag.command's version changed (a registration):
// every command line is matched against this list.
const std::vector<CommandInfo>& Session::command_list() const {
    lua_State* L = L_;
    heap_->relaxed++;
    if (push_command_module(L)) {
        lua_getfield(L, -1, "version");
        lua_Integer version = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
        lua_pop(L, 1);
        if (version < 0 || version != command_cache_version_) {
            command_cache_.clear();
            lua_getfield(L, -1, "registry");
            if (lua_istable(L, -1)) {
                lua_pushnil(L);
                while (lua_next(L, -2)) {
                    if (lua_istable(L, -1)) command_cache_.push_back(read_spec(L, lua_gettop(L)));
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
            std::sort(command_cache_.begin(), command_cache_.end(),
                      [](const auto& a, const auto& b) { return a.name < b.name; });
            command_cache_version_ = version;
        }
        lua_pop(L, 1);
    } else {
        command_cache_.clear();
        command_cache_version_ = -1;
    }
    heap_->relaxed--;
    return command_cache_;
}

std::vector<CommandInfo> Session::commands() const { return command_list(); }

bool Session::has_command(std::string_view name) const {
    for (const auto& c : command_list()) {
        if (c.name == name) return true;
        if (std::find(c.aliases.begin(), c.aliases.end(), name) != c.aliases.end()) return true;
    }
    return false;
}

// gdb-style: the longest sequence of words naming a command; each word may be a unique prefix.
std::optional<std::pair<std::string, std::string>> Session::match_command(std::string_view line) const {
    std::vector<std::string> words = split_words(line);
    if (words.empty()) return std::nullopt;
    struct Candidate {
        std::vector<std::string> words;
        std::string canonical;
    };
    std::vector<Candidate> candidates;
    for (const auto& c : command_list()) {
        candidates.push_back({split_words(c.name), c.name});
        for (const auto& a : c.aliases) candidates.push_back({split_words(a), c.name});
    }
    for (size_t k = std::min<size_t>(words.size(), 4); k >= 1; --k) {
        std::vector<std::string> exact, prefixed;
        for (const auto& cand : candidates) {
            if (cand.words.size() != k) continue;
            bool all_exact = true, ok = true;
            for (size_t i = 0; i < k && ok; ++i) {
                if (cand.words[i] == words[i]) continue;
                all_exact = false;
                ok = cand.words[i].starts_with(words[i]);
            }
            if (!ok) continue;
            auto& bucket = all_exact ? exact : prefixed;
            if (std::find(bucket.begin(), bucket.end(), cand.canonical) == bucket.end())
                bucket.push_back(cand.canonical);
        }
        const auto& chosen = !exact.empty() ? exact : prefixed;
        if (chosen.size() == 1)
            return std::pair{chosen.front(), std::string(line.substr(after_words(line, k)))};
        if (chosen.size() > 1) return std::nullopt;  // ambiguous, e.g. "info s"
    }
    return std::nullopt;
}

Expected<void> Session::run_command(std::string_view name, std::string_view args, std::ostream& out) {
    if (!push_command_module(L_)) return fail("the command stdlib is not loaded");
    lua_getfield(L_, -1, "run");
    lua_remove(L_, -2);
    push_string(L_, name);
    push_string(L_, args);
    outputs_.push_back(&out);
    auto ran = protected_call(L_, 2, 0);
    outputs_.pop_back();
    out.flush();
    return ran;
}

Expected<std::string> Session::run_command(std::string_view name, std::string_view args) {
    std::ostringstream out;
    auto ran = run_command(name, args, out);
    if (!ran) return std::unexpected(ran.error());
    return out.str();
}

Expected<void> Session::run_line(std::string_view line, std::ostream& out) {
    if (line_runner_) return line_runner_(line, out);
    auto words = split_words(line);
    if (words.empty()) return {};
    auto match = match_command(line);
    if (!match) return fail("Undefined command: \"" + words.front() + "\".  Try \"help\".");
    return run_command(match->first, match->second, out);
}

std::vector<std::string> Session::symbol_names(std::string_view prefix, size_t limit) {
    // Live control replaces the symbolizer after a library load: read the new module list then.
    if (!symbol_names_ || symbol_names_modules_ != symbols_->modules().size()) {
        symbol_names_ = std::make_unique<SymbolNames>(symbols_->modules());
        symbol_names_modules_ = symbols_->modules().size();
    }
    return symbol_names_->with_prefix(prefix, limit);
}

std::vector<std::string> Session::complete_argument(std::string_view command, std::string_view args_before,
                                                    std::string_view word) {
    std::vector<std::string> out;
    int base = lua_gettop(L_);
    if (!push_command_module(L_)) return out;
    lua_getfield(L_, -1, "complete");
    if (!lua_isfunction(L_, -1)) {
        lua_settop(L_, base);
        return out;
    }
    push_string(L_, command);
    push_string(L_, args_before);
    push_string(L_, word);
    std::ostringstream discard;  // a completer has nothing to print
    outputs_.push_back(&discard);
    auto ran = protected_call(L_, 3, 1);
    outputs_.pop_back();
    if (ran && lua_istable(L_, -1)) {
        auto n = static_cast<lua_Integer>(lua_rawlen(L_, -1));
        for (lua_Integer i = 1; i <= n; ++i) {
            lua_rawgeti(L_, -1, i);
            if (lua_type(L_, -1) == LUA_TSTRING) out.emplace_back(lua_tostring(L_, -1));
            lua_pop(L_, 1);
        }
    }
    lua_settop(L_, base);
    return out;
}

Expected<std::string> Session::eval_lua(std::string_view code, std::ostream& out) {
    int base = lua_gettop(L_);
    std::string as_return = "return " + std::string(code) + ";";
    if (!load_chunk(L_, as_return, "=lua")) {
        if (auto loaded = load_chunk(L_, code, "=lua"); !loaded) return std::unexpected(loaded.error());
    }
    outputs_.push_back(&out);
    auto ran = protected_call(L_, 0, LUA_MULTRET);
    Expected<std::string> text = ran ? format_results(L_, base + 1, lua_gettop(L_))
                                     : Expected<std::string>(std::unexpected(ran.error()));
    outputs_.pop_back();
    lua_settop(L_, base);
    return text;
}

LuaChunkStatus Session::lua_chunk_status(std::string_view code) const {
    int base = lua_gettop(L_);
    std::string as_return = "return " + std::string(code) + ";";
    if (load_chunk(L_, as_return, "=lua")) {
        lua_settop(L_, base);
        return LuaChunkStatus::Complete;
    }
    auto loaded = load_chunk(L_, code, "=lua");
    lua_settop(L_, base);
    if (loaded) return LuaChunkStatus::Complete;
    // lua.c's test: a syntax error at the end of input means the chunk continues.
    const std::string& m = loaded.error().message;
    return m.ends_with("<eof>") ? LuaChunkStatus::Incomplete : LuaChunkStatus::Error;
}

Expected<void> Session::run_lua_file(const std::string& path, const std::vector<std::string>& args,
                                     std::ostream& out) {
    heap_->relaxed++;
    lua_createtable(L_, static_cast<int>(args.size()), 1);
    push_string(L_, path);
    lua_rawseti(L_, -2, 0);
    for (size_t i = 0; i < args.size(); ++i) {
        push_string(L_, args[i]);
        lua_rawseti(L_, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setglobal(L_, "arg");
    heap_->relaxed--;
    std::error_code ec;
    heap_->readable_dirs.push_back(std::filesystem::absolute(path, ec).parent_path().string());
    if (auto loaded = load_file(L_, path); !loaded) return loaded;
    for (const auto& a : args) push_string(L_, a);
    outputs_.push_back(&out);
    auto ran = protected_call(L_, static_cast<int>(args.size()), 0);
    outputs_.pop_back();
    out.flush();
    return ran;
}

}  // namespace snag
