// snag analyze TARGET: runs the default rules pack (and --rules packs) over a live process or a
// core and prints the findings. Policy (the rules, the reports) is Lua (stdlib/snag/analyze.lua);
// this file parses the command line, samples a live process over --duration while it runs, and
// gives each rule its own sandboxed call so a failing or runaway rule cannot stop the others.
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "analyze_sampling.hpp"
#include "lua/session.hpp"
#include "python/process_tree.hpp"
#include "repl_session.hpp"
#include "rules_pack.hpp"
#include "subcommands.hpp"

namespace snag::cli {

namespace {

constexpr const char* kUsage =
    "usage: snag analyze TARGET [--rules PATH]... [--select EXPR] [--arg RULE.KEY=VALUE]...\n"
    "                    [--format text|json|markdown] [--fail-on SEVERITY] [--graph FILE.dot|FILE.svg]\n"
    "                    [--duration S] [--children] [--baseline OLD] [--no-default] [--exe PATH]\n"
    "                    [--sysroot DIR]\n"
    "Runs the default rules pack (snag rules list) and --rules packs over TARGET.\n"
    "--select: boolean expression over rule ids and tags (`default and not slow`, `python-*`).\n"
    "--duration: seconds a live process is sampled (CPU, RSS, fds, threads; Python objects per type\n"
    "            when memory-growth runs, Python stack samples when busy-loop runs: 5 a second, at\n"
    "            least 5, at most 50) before the snapshot (default 1; 0 skips sampling).\n"
    "--children: a live PID and all its descendants (pool workers, forked children), one report.\n"
    "--baseline: an earlier core (or PID) of the same service; rules that compare two dumps\n"
    "            (task-leak: tasks gained since) read what they remembered of it.\n"
    "Exit status: 0 no finding at or above --fail-on (default error), 1 some, 2 usage or target error.\n";

struct AnalyzeOptions {
    std::vector<std::string> rule_paths;
    std::string select, format = "text", fail_on = "error", graph, baseline;
    std::vector<std::string> args;
    double duration = 1.0;
    bool builtin = true;
};

// Progress on stderr for the long steps (sampling, loading, rules), only when it is a terminal.
bool progress_shown() {
    static const bool tty = isatty(STDERR_FILENO);
    return tty;
}

void progress(const std::string& what) {
    if (!progress_shown()) return;
    std::fprintf(stderr, "\r\033[K%s%s", what.empty() ? "" : "snag analyze: ", what.c_str());
    std::fflush(stderr);
}

// Python stack samples over --duration (busy-loop's "every sample"): one per 200 ms, at least 5
// and at most 50; a longer --duration makes "the same frames in every sample" stronger evidence.
int stack_samples_for(double duration) {
    return static_cast<int>(std::clamp(duration * 5.0, 5.0, 50.0));
}

bool all_digits(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

Expected<AnalyzeOptions> parse_options(Args& args) {
    AnalyzeOptions o;
    o.rule_paths = args.options("--rules");
    o.select = args.option("--select");
    o.args = args.options("--arg");
    o.format = args.option("--format", "text");
    o.fail_on = args.option("--fail-on", "error");
    o.graph = args.option("--graph");
    o.baseline = args.option("--baseline");
    o.builtin = !args.flag("--no-default");
    std::string duration = args.option("--duration", "1");
    if (o.format != "text" && o.format != "json" && o.format != "markdown")
        return fail("--format must be text, json or markdown, not " + o.format);
    if (o.fail_on != "info" && o.fail_on != "warning" && o.fail_on != "error" && o.fail_on != "critical")
        return fail("--fail-on must be info, warning, error or critical, not " + o.fail_on);
    char* end = nullptr;
    o.duration = std::strtod(duration.c_str(), &end);
    if (end == duration.c_str() || *end || o.duration < 0 || o.duration > 3600)
        return fail("--duration must be a number of seconds (0-3600), not " + duration);
    if (!o.graph.empty() && !o.graph.ends_with(".dot") && !o.graph.ends_with(".svg"))
        return fail("--graph FILE must end in .dot or .svg");
    return o;
}

// Every rule file: the built-in pack first, then each --rules PATH in order.
Expected<std::vector<std::string>> collect_rule_files(const AnalyzeOptions& o) {
    std::vector<std::string> files;
    if (o.builtin) {
        std::string dir = builtin_rules_dir();
        if (dir.empty()) return fail("the default rules pack was not found (set SNAG_RULES to its directory)");
        auto found = rule_files(dir);
        if (!found) return std::unexpected(found.error());
        files = *found;
    }
    for (const auto& path : o.rule_paths) {
        auto found = rule_files(path);
        if (!found) return std::unexpected(found.error());
        // The same file named twice (the default pack passed as --rules too) loads once.
        for (const auto& file : *found) {
            bool seen = false;
            std::error_code ec;
            for (const auto& f : files) seen = seen || std::filesystem::equivalent(f, file, ec);
            if (!seen) files.push_back(file);
        }
    }
    return files;
}

std::string lua_list(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& s : items) out += lua_quote(s) + ",";
    return out + "}";
}

// The message of a Lua error without its traceback (findings' errors are one line each).
std::string first_line(const std::string& message) {
    auto cut = message.find("\nstack traceback:");
    std::string m = cut == std::string::npos ? message : message.substr(0, cut);
    for (char& c : m) if (c == '\n') c = ' ';
    return m;
}

// dot -Tsvg; a clear sentence when Graphviz is missing.
Expected<void> dot_to_svg(const std::string& dot, const std::string& svg) {
    std::fflush(nullptr);
    pid_t child = fork();
    if (child < 0) return fail("cannot start dot");
    if (child == 0) {
        execlp("dot", "dot", "-Tsvg", dot.c_str(), "-o", svg.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return fail("--graph " + svg + " needs Graphviz's dot program (apt-get install graphviz); "
                    "the DOT source is in " + dot);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("dot failed to render " + dot);
    return {};
}

Expected<std::unique_ptr<Session>> open_session(const std::string& spec, const TargetOptions& target_options) {
    progress("opening " + spec);
    auto target = open_target(spec, target_options);
    if (!target) return std::unexpected(target.error());
    SessionOptions session_options;
    session_options.user_commands = false;
    session_options.budget.instructions = 300'000'000;   // per rule: a looping rule stops in ~1 s
    session_options.budget.memory_bytes = 256ull << 20;
    session_options.source_lines = true;  // the pack reads native stacks with file:line
    auto session = Session::open(std::move(*target), session_options);
    if (!session) return std::unexpected(session.error());
    print_warnings((*session)->target());
    return session;
}

// snag.analyze.begin's config for one target (samples, baseline: Lua literals or "").
std::string analyze_config(Session& session, const AnalyzeOptions& o, const std::vector<std::string>& files,
                           const std::string& samples, const std::string& dot_path, const std::string& baseline) {
    std::ostringstream config;
    config << "{files=" << lua_list(files) << ",select=" << lua_quote(o.select) << ",args=" << lua_list(o.args)
           << ",format=" << lua_quote(o.format) << ",fail_on=" << lua_quote(o.fail_on)
           << ",graph=" << lua_quote(dot_path) << ",duration=" << o.duration
           << ",color=" << (isatty(STDOUT_FILENO) ? "true" : "false")
           << ",samples=" << (samples.empty() ? "nil" : samples)
           << ",baseline=" << (baseline.empty() ? "nil" : baseline)
           << ",core_writer=" << (session.target().paratext() ? "\"snag\"" : "\"other\"") << "}";
    return config.str();
}

// --baseline OLD: what each selected rule remembers of the earlier dump (its baseline function),
// as a Lua literal handed to the newer dump's rules.
Expected<std::string> capture_baseline(const AnalyzeOptions& o, const std::vector<std::string>& files,
                                       const TargetOptions& target_options) {
    auto session = open_session(o.baseline, target_options);
    if (!session) return fail("--baseline " + o.baseline + ": " + first_line(session.error().message));
    std::ostringstream sink;
    auto begun = (*session)->eval_lua("require('snag.analyze').begin(" +
                                      analyze_config(**session, o, files, "", "", "") + ")", sink);
    std::optional<Expected<std::string>> captured;
    if (begun) captured = (*session)->eval_lua("require('snag.analyze').capture_baseline(" + lua_quote(o.baseline) + ")", sink);
    (*session)->target().detach();
    if (!begun) return fail(first_line(begun.error().message));
    if (!*captured) return fail("--baseline " + o.baseline + ": " + first_line(captured->error().message));
    return **captured;
}

// Runs every selected rule in its own sandboxed call. Returns 2 (after printing why) when the
// analysis cannot start: a bad --select or --arg.
int run_rules(Session& session, const AnalyzeOptions& o, const std::vector<std::string>& files,
              const std::string& samples, const std::string& dot_path, const std::string& baseline = "") {
    std::ostringstream sink;
    auto count = session.eval_lua("require('snag.analyze').begin(" +
                                  analyze_config(session, o, files, samples, dot_path, baseline) + ")", sink);
    if (!count) return report(Error{first_line(count.error().message), 2});
    int n = std::atoi(count->c_str());
    for (int i = 1; i <= n; ++i) {
        if (progress_shown()) {
            auto id = session.eval_lua("require('snag.analyze').rule_id(" + std::to_string(i) + ")", sink);
            progress("rule " + std::to_string(i) + "/" + std::to_string(n) + ": " + (id ? *id : "?"));
        }
        std::string call = "require('snag.analyze').run(" + std::to_string(i) + ")";
        auto ran = session.eval_lua(call, sink);
        if (!ran) {
            std::string msg = first_line(ran.error().message);
            auto failed = session.eval_lua("require('snag.analyze').fail(" + std::to_string(i) + "," +
                                           lua_quote(msg) + ")", sink);
            if (!failed) return report(Error{"analyze: " + first_line(failed.error().message), 2});
        }
    }
    progress("");
    return 0;
}

// Prints the report of one target and returns the exit status.
int render(Session& session, const std::string& dot_path) {
    std::ostringstream sink;
    if (!dot_path.empty()) session.allow_writes_to(dot_path);
    auto rendered = session.eval_lua("require('snag.analyze').render()", std::cout);
    std::cout.flush();
    if (!rendered) return report(Error{first_line(rendered.error().message), 2});
    auto code = session.eval_lua("require('snag.analyze').exit_code()", sink);
    if (!code) return report(Error{first_line(code.error().message), 2});
    return std::atoi(code->c_str());
}

int analyze_one(const TargetSpec& spec, const AnalyzeOptions& o, const std::vector<std::string>& files,
                const std::string& samples) {
    std::string baseline;
    if (!o.baseline.empty()) {
        auto captured = capture_baseline(o, files, spec.options);
        if (!captured) return report(captured.error());
        baseline = *captured;
    }
    auto session = open_session(spec.spec, spec.options);
    if (!session) return report(session.error());
    std::string dot_path = o.graph;
    bool svg = dot_path.ends_with(".svg");
    if (svg) dot_path = dot_path.substr(0, dot_path.size() - 4) + ".dot";
    int code = run_rules(**session, o, files, samples, dot_path, baseline);
    if (code == 0) code = render(**session, dot_path);
    (*session)->target().detach();
    if (svg && code != 2) {
        if (auto drawn = dot_to_svg(dot_path, o.graph); !drawn) return report(drawn.error());
        std::filesystem::remove(dot_path);
    }
    return code;
}

// What the sampling stops the processes for, from the selected rules' tags: the Python heap
// census (tag heap, two stops) and Python stack samples (tag stack-samples, one stop each).
SampleOptions sample_options(const AnalyzeOptions& o, const std::vector<std::string>& files) {
    SampleOptions options{o.duration, false, 0};
    auto lua = BareLua::open();
    if (!lua) return options;
    auto tags = (*lua)->eval("return require('snag.analyze').selected_tags(" + lua_list(files) + "," +
                             lua_quote(o.select) + ")");
    if (!tags) return options;
    options.heap = tags->find(" heap ") != std::string::npos;
    if (tags->find(" stack-samples ") != std::string::npos) options.stack_samples = stack_samples_for(o.duration);
    return options;
}

// The result of a process that could not be analysed (phase "open" or "export"), in the shape
// analyze.export() gives.
std::string failed_process(int pid, const std::string& phase, const std::string& why) {
    return "{target={kind=\"process\",pid=" + std::to_string(pid) + "},findings={},rules_run={},notes={}," +
           "errors={{rule=\"analyze\",phase=" + lua_quote(phase) + ",pid=" + std::to_string(pid) +
           ",message=" + lua_quote(why) + "}}}";
}

// --children: each process of the tree is analysed in a session of its own (stopped only for its
// snapshot), its result exported; one report for the tree is rendered from all of them.
int analyze_tree(const TargetSpec& spec, const AnalyzeOptions& o, const std::vector<std::string>& files,
                 const std::vector<int>& pids, std::map<int, std::string>& samples) {
    std::vector<std::string> results;
    for (int pid : pids) {
        TargetSpec one = spec;
        one.spec = std::to_string(pid);
        auto session = open_session(one.spec, one.options);
        if (!session) {
            if (pid == pids.front()) return report(session.error());
            results.push_back(failed_process(pid, "open", session.error().message));
            continue;
        }
        int code = run_rules(**session, o, files, samples[pid], "");
        std::ostringstream sink;
        auto exported = code == 0 ? (*session)->eval_lua("require('snag.analyze').export()", sink)
                                  : Expected<std::string>{};
        (*session)->target().detach();
        if (code != 0) return code;
        results.push_back(exported ? *exported : failed_process(pid, "export", first_line(exported.error().message)));
    }
    auto lua = BareLua::open();
    if (!lua) return report(lua.error());
    std::string list = "{";
    for (const auto& r : results) list += r + ",";
    list += "}";
    std::ostringstream config;
    config << "{format=" << lua_quote(o.format) << ",fail_on=" << lua_quote(o.fail_on) << ",duration=" << o.duration
           << ",color=" << (isatty(STDOUT_FILENO) ? "true" : "false") << "}";
    auto text = (*lua)->eval("return require('snag.analyze').render_tree(" + list + "," + config.str() + ")");
    if (!text) return report(Error{first_line(text.error().message), 2});
    std::cout << *text;
    std::cout.flush();
    auto code = (*lua)->eval("return tostring(require('snag.analyze').exit_code())");
    if (!code) return report(Error{first_line(code.error().message), 2});
    return std::atoi(code->c_str());
}

}  // namespace

Expected<std::string> analyze_core_export(const std::string& core, const std::string& export_chunk) {
    AnalyzeOptions o;
    o.format = "json";
    o.duration = 0;
    auto files = collect_rule_files(o);
    if (!files) return std::unexpected(files.error());
    auto session = open_session(core, TargetOptions{});
    if (!session) return std::unexpected(session.error());
    if (run_rules(**session, o, *files, "", "") != 0) return fail("the rules pack could not start on " + core);
    std::ostringstream sink;
    auto out = (*session)->eval_lua(export_chunk, sink);
    if (!out) return fail(first_line(out.error().message));
    return *out;
}

int cmd_analyze(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << kUsage;
        return 0;
    }
    auto options = parse_options(args);
    if (!options) return report(options.error());
    bool children = args.flag("--children");
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    bool live = all_digits(spec->spec);
    if (children && !live) return report(Error{"--children needs a live PID, not a core file", 2});
    if (children && !options->baseline.empty())
        return report(Error{"--baseline compares one process or core with an earlier dump of it: run it without --children", 2});
    if (children && !options->graph.empty())
        return report(Error{"--graph draws one process's wait-for graph: run it without --children on that PID", 2});
    auto files = collect_rule_files(*options);
    if (!files) return report(files.error());

    std::vector<int> pids;
    if (live) pids.push_back(std::atoi(spec->spec.c_str()));
    if (children)
        for (int child : python::descendant_pids(pids.front())) pids.push_back(child);

    // Live targets are sampled while they run; the snapshot stops come after.
    std::map<int, std::string> samples;
    if (live && options->duration > 0) {
        progress("sampling " + std::to_string(pids.size()) + (pids.size() == 1 ? " process" : " processes") +
                 " for " + std::to_string(options->duration).substr(0, 4) + " s");
        samples = sample_processes(pids, sample_options(*options, *files));
    }
    if (children) return analyze_tree(*spec, *options, *files, pids, samples);
    return analyze_one(*spec, *options, *files, live ? samples[pids.front()] : "");
}

}  // namespace snag::cli
