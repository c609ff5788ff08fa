// Rules packs on disk: where the built-in pack lives, which files of a --rules PATH are rules,
// and the bare sandboxed Lua state `snag rules` uses to read rules and specs without a target.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"

struct lua_State;
namespace snag {
struct LuaHeap;
}

namespace snag::cli {

// The default pack: $SNAG_RULES, else <exe>/../share/snag/rules (installed), else the source
// tree's rules/, else the install prefix's. Empty when none exists.
std::string builtin_rules_dir();

// Rule files of PATH: the file itself, or DIR/*.lua without *.test.lua, sorted by name.
Expected<std::vector<std::string>> rule_files(const std::string& path);

// The test spec beside a rule file: X.lua → X.test.lua ("" when there is none).
std::string spec_file_of(const std::string& rule_file);

// A Lua string literal holding text (for configuration chunks built in C++).
std::string lua_quote(const std::string& text);

// A sandboxed Lua state with the stdlib's snag.* modules preloaded and no target.
class BareLua {
public:
    static Expected<std::unique_ptr<BareLua>> open();
    ~BareLua();
    // Runs code (a chunk returning one string) and returns that string.
    Expected<std::string> eval(const std::string& code);

private:
    BareLua() = default;
    lua_State* L_ = nullptr;
    snag::LuaHeap* heap_ = nullptr;
};

}  // namespace snag::cli
