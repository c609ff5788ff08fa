// Rules packs on disk and the bare Lua state of `snag rules` (see rules_pack.hpp).
#include "rules_pack.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "lua/sandbox.hpp"
#include "lua/stdlib_files.hpp"

namespace snag::cli {

namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

}  // namespace

std::string builtin_rules_dir() {
    if (const char* env = std::getenv("SNAG_RULES"); env && *env) return env;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path installed = exe.parent_path().parent_path() / "share/snag/rules";
        if (is_dir(installed)) return installed.string();
    }
    if (is_dir(SNAG_SOURCE_DIR "/rules")) return SNAG_SOURCE_DIR "/rules";
    if (is_dir(SNAG_DATA_DIR "/rules")) return SNAG_DATA_DIR "/rules";
    return "";
}

Expected<std::vector<std::string>> rule_files(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return fail("no such rules file or directory: " + path);
    if (!is_dir(path)) return std::vector<std::string>{path};
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
        std::string name = entry.path().filename().string();
        if (!name.ends_with(".lua") || name.ends_with(".test.lua") || name.starts_with(".")) continue;
        files.push_back(entry.path().string());
    }
    if (ec) return fail("cannot list " + path + ": " + ec.message());
    std::sort(files.begin(), files.end());
    return files;
}

std::string spec_file_of(const std::string& rule_file) {
    if (!rule_file.ends_with(".lua")) return "";
    std::string spec = rule_file.substr(0, rule_file.size() - 4) + ".test.lua";
    std::error_code ec;
    return fs::exists(spec, ec) ? spec : "";
}

std::string lua_quote(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 32 || c == 127) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03u", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

Expected<std::unique_ptr<BareLua>> BareLua::open() {
    std::unique_ptr<BareLua> b(new BareLua);
    b->heap_ = new LuaHeap;
    b->heap_->budget = 256u << 20;
    b->heap_->instruction_budget = 500'000'000;
    b->L_ = new_sandboxed_state(b->heap_);
    if (!b->L_) return fail("cannot create a Lua state");
    // package.preload["snag.x"] = stdlib/snag/x.lua: embedded, or from $SNAG_STDLIB (as Session).
    lua_getglobal(b->L_, "package");
    lua_getfield(b->L_, -1, "preload");
    auto preload = [&](const std::string& path, std::string_view text) {
        if (!path.starts_with("snag/") || !path.ends_with(".lua")) return;
        std::string module = "snag." + path.substr(5, path.size() - 9);
        if (load_chunk(b->L_, text, "@stdlib/" + path)) lua_setfield(b->L_, -2, module.c_str());
    };
    const char* override_dir = std::getenv("SNAG_STDLIB");
    if (override_dir && *override_dir) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(fs::path(override_dir) / "snag", ec)) {
            std::ifstream in(e.path());
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            preload("snag/" + e.path().filename().string(), text);
        }
    } else {
        for (size_t i = 0; i < kStdlibFileCount; ++i) preload(kStdlibFiles[i].path, kStdlibFiles[i].text);
    }
    lua_pop(b->L_, 2);
    return b;
}

BareLua::~BareLua() {
    if (L_) lua_close(L_);
    delete heap_;
}

Expected<std::string> BareLua::eval(const std::string& code) {
    int base = lua_gettop(L_);
    if (auto loaded = load_chunk(L_, code, "=rules"); !loaded) return std::unexpected(loaded.error());
    if (auto ran = protected_call(L_, 0, 1); !ran) return std::unexpected(ran.error());
    size_t n = 0;
    const char* s = lua_tolstring(L_, -1, &n);
    std::string out = s ? std::string(s, n) : std::string();
    lua_settop(L_, base);
    return out;
}

}  // namespace snag::cli
