// Symbol names for completion: read from this test binary's ELF symbol tables, searched by prefix;
// command arguments complete through snag.command.complete.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <sstream>

#include "symbols/symbol_names.hpp"
#include "test_lua_fakes.hpp"

// External linkage keeps these in .symtab, with a prefix nothing else in the binary uses.
extern "C" {
int zq_symbol_names_probe_data = 1;
__attribute__((noinline)) int zq_symbol_names_probe_alpha() { return zq_symbol_names_probe_data; }
__attribute__((noinline)) int zq_symbol_names_probe_beta() { return 2; }
__attribute__((noinline)) int zq_symbol_names_probe_gamma() { return 3; }
}

namespace {
snag::Module self_module() {
    char path[PATH_MAX] = {};
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    snag::Module m;
    m.path = m.local_path = std::string(path, n > 0 ? static_cast<size_t>(n) : 0);
    return m;
}
}  // namespace

TEST_CASE("symbol names: functions and data of a module by prefix, sorted") {
    CHECK(zq_symbol_names_probe_alpha() + zq_symbol_names_probe_beta() + zq_symbol_names_probe_gamma() == 6);
    snag::SymbolNames names({self_module()});
    CHECK(names.size() > 100);
    using V = std::vector<std::string>;
    CHECK(names.with_prefix("zq_symbol_names_probe_") ==
          V{"zq_symbol_names_probe_alpha", "zq_symbol_names_probe_beta", "zq_symbol_names_probe_data",
            "zq_symbol_names_probe_gamma"});
    CHECK(names.with_prefix("zq_symbol_names_probe_d") == V{"zq_symbol_names_probe_data"});
    CHECK(names.with_prefix("zq_no_such_symbol_").empty());
    // A cut list keeps the last match, so the common prefix of the list is the range's.
    CHECK(names.with_prefix("zq_symbol_names_probe_", 2) ==
          V{"zq_symbol_names_probe_alpha", "zq_symbol_names_probe_gamma"});
}

TEST_CASE("symbol names: a module whose file differs from the target's offers none") {
    snag::Module m = self_module();
    m.file_matches = false;
    CHECK(snag::SymbolNames({m}).size() == 0);
}

TEST_CASE("completion: a command's complete function, filtered by the word; synopsis words") {
    auto s = snag::testing::make_session();
    std::ostringstream out;
    auto loaded = s->eval_lua(
        "command{ name = 'pick', args = 'COLOR', run = function() end,"
        "  complete = function(word, before) return {'red', 'green', 'grey', before} end }",
        out);
    REQUIRE(loaded);
    using V = std::vector<std::string>;
    CHECK(s->complete_argument("pick", "", "gr") == V{"green", "grey"});
    CHECK(s->complete_argument("pick", "blue ", "b") == V{"blue "});
    CHECK(s->complete_argument("pick", "", "") == V{"", "green", "grey", "red"});
    CHECK(s->complete_argument("no such command", "", "x").empty());
    // `info symbol ADDR`: symbol names, but not for an empty word (every symbol helps nobody).
    CHECK(s->complete_argument("info symbol", "", "").empty());
    auto broken = s->eval_lua("command{ name = 'broken', run = function() end,"
                              "  complete = function() error('boom') end }", out);
    REQUIRE(broken);
    CHECK(s->complete_argument("broken", "", "a").empty());
}
