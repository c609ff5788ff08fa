// snag lua FILE TARGET [ARGS...]: runs a Lua script against a target with `target` and `arg` set
// (arg[0] = FILE, arg[1..] = ARGS, also passed as `...`). snag's options (--load, --write, --exe,
// --sysroot, --no-stop) are taken anywhere before a `--`; other words after TARGET go to the script.
#include <cstdio>
#include <iostream>

#include "repl_session.hpp"
#include "subcommands.hpp"

namespace snag::cli {

namespace {

struct LuaInvocation {
    std::string script;
    std::vector<std::string> target_words;  // TARGET and its --exe/--sysroot/--no-stop
    std::vector<std::string> loads;         // --load FILE: extra command files
    std::vector<std::string> writes;        // --write PATH: files the script may write
    std::vector<std::string> script_args;
};

Expected<LuaInvocation> parse(const std::vector<std::string>& words) {
    LuaInvocation inv;
    int positional = 0;
    bool only_script_args = false;
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (only_script_args) {
            inv.script_args.push_back(w);
            continue;
        }
        if (w == "--" && positional == 2) {
            only_script_args = true;
            continue;
        }
        bool takes_value = w == "--load" || w == "--write" || w == "--exe" || w == "--sysroot";
        if (takes_value) {
            if (i + 1 == words.size()) return fail(w + " needs an argument");
            const std::string& value = words[++i];
            if (w == "--load") inv.loads.push_back(value);
            else if (w == "--write") inv.writes.push_back(value);
            else inv.target_words.insert(inv.target_words.end(), {w, value});
        } else if (w == "--no-stop") {
            inv.target_words.push_back(w);
        } else if (positional == 2) {
            inv.script_args.push_back(w);
        } else if (w.rfind("--", 0) == 0) {
            return fail("unknown option " + w);
        } else if (positional++ == 0) {
            inv.script = w;
        } else {
            inv.target_words.push_back(w);
        }
    }
    if (inv.script.empty()) return fail("missing FILE (the Lua script to run)");
    if (positional < 2) return fail("missing TARGET (a PID or a core file)");
    return inv;
}

}  // namespace

int cmd_lua(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << "usage: snag lua FILE TARGET [ARGS...] [--load LUAFILE]... [--write PATH]...\n"
                     "Runs FILE with the globals `target` and `arg`; see docs/lua-api.md.\n"
                     "--write PATH lets the script write PATH (scripts are sandboxed).\n"
                     "Words after `--` go to the script even if they look like snag options.\n";
        return 0;
    }
    auto inv = parse(args.rest());
    if (!inv) return report(inv.error());
    if (std::FILE* f = std::fopen(inv->script.c_str(), "r")) std::fclose(f);
    else return report(Error{"cannot read the script " + inv->script, 2});
    Args target_args(inv->target_words);
    auto spec = take_target(target_args);
    if (!spec) return report(spec.error());
    auto cs = open_command_session(*spec, inv->loads);
    if (!cs) return report(cs.error());
    print_warnings((*cs)->session->target());
    for (const auto& path : inv->writes) (*cs)->session->allow_writes_to(path);
    auto ran = (*cs)->session->run_lua_file(inv->script, inv->script_args, std::cout);
    std::cout.flush();
    (*cs)->detach();
    if (!ran) {
        std::cerr << "snag: " << ran.error().message << "\n";
        return 1;
    }
    return 0;
}

}  // namespace snag::cli
