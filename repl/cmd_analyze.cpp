// snag analyze TARGET: runs the default rules pack (and --rules packs) over a live process or a
// core and prints the findings. Policy (the rules, the reports) is Lua (stdlib/snag/analyze.lua);
// this file parses the command line, samples a live process over --duration while it runs, and
// gives each rule its own sandboxed call so a failing or runaway rule cannot stop the others.
#include <unistd.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "lua/session.hpp"
#include "repl_session.hpp"
#include "rules_pack.hpp"
#include "subcommands.hpp"
#include "target/proc_fs.hpp"

namespace snag::cli {

namespace {

constexpr const char* kUsage =
    "usage: snag analyze TARGET [--rules PATH]... [--select EXPR] [--arg RULE.KEY=VALUE]...\n"
    "                    [--format text|json|markdown] [--fail-on SEVERITY] [--graph FILE.dot|FILE.svg]\n"
    "                    [--duration S] [--no-default] [--exe PATH] [--sysroot DIR]\n"
    "Runs the default rules pack (snag rules list) and --rules packs over TARGET.\n"
    "--select: boolean expression over rule ids and tags (`default and not slow`, `python-*`).\n"
    "--duration: seconds a live process is sampled (CPU, RSS, fds, threads) before the snapshot\n"
    "            (default 1; 0 skips sampling).\n"
    "Exit status: 0 no finding at or above --fail-on (default error), 1 some, 2 usage or target error.\n";

struct AnalyzeOptions {
    std::vector<std::string> rule_paths;
    std::string select, format = "text", fail_on = "error", graph;
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

bool all_digits(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

size_t count_fds(int pid) {
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(proc::pid_path(pid, "fd"), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

uint64_t rss_kb(int pid) {
    auto statm = proc::read_file(proc::pid_path(pid, "statm"));
    if (!statm) return 0;
    unsigned long long size = 0, resident = 0;
    if (std::sscanf(statm->c_str(), "%llu %llu", &size, &resident) != 2) return 0;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

// Counter Value for live targets: per-thread CPU over the interval (and the share of samples in
// which each thread was runnable: on a loaded machine a spinning thread gets little CPU but is
// always R), and the RSS / fd / thread series, read from /proc while the process runs. Returns a
// Lua table constructor.
std::string sample_live(int pid, double duration) {
    using clock = std::chrono::steady_clock;
    std::map<int, uint64_t> first, last;
    std::map<int, std::string> names;
    std::map<int, int> runnable;  // samples in which the thread was R (running or waiting for a CPU)
    auto read_cpu = [&](std::map<int, uint64_t>& into) {
        for (int tid : proc::list_tasks(pid)) {
            if (auto st = proc::read_task_stat(pid, tid)) {
                into[tid] = st->utime_ticks + st->stime_ticks;
                names[tid] = st->comm;
            }
        }
    };
    std::ostringstream series;
    auto start = clock::now();
    read_cpu(first);
    int steps = std::max(2, static_cast<int>(duration / 0.1));
    for (int i = 0; i <= steps; ++i) {
        double t = std::chrono::duration<double>(clock::now() - start).count();
        auto tasks = proc::list_tasks(pid);
        for (int tid : tasks)
            if (auto st = proc::read_task_stat(pid, tid); st && st->state == 'R') runnable[tid]++;
        series << "{t=" << t << ",rss_kb=" << rss_kb(pid) << ",fds=" << count_fds(pid)
               << ",threads=" << tasks.size() << "},";
        if (i < steps) std::this_thread::sleep_until(start + std::chrono::duration<double>(duration * (i + 1) / steps));
    }
    read_cpu(last);
    double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    std::ostringstream out;
    out << "{duration=" << elapsed << ",threads={";
    for (const auto& [tid, ticks] : last) {
        uint64_t before = first.count(tid) ? first[tid] : 0;
        out << "{tid=" << tid << ",name=" << lua_quote(names[tid])
            << ",cpu=" << proc::ticks_to_seconds(ticks - std::min(ticks, before))
            << ",runnable=" << static_cast<double>(runnable[tid]) / (steps + 1)
            << ",new=" << (first.count(tid) ? "false" : "true") << "},";
    }
    out << "},series={" << series.str() << "}}";
    return out.str();
}

Expected<AnalyzeOptions> parse_options(Args& args) {
    AnalyzeOptions o;
    o.rule_paths = args.options("--rules");
    o.select = args.option("--select");
    o.args = args.options("--arg");
    o.format = args.option("--format", "text");
    o.fail_on = args.option("--fail-on", "error");
    o.graph = args.option("--graph");
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

int run_analysis(Session& session, const AnalyzeOptions& o, const std::vector<std::string>& files,
                 const std::string& samples, const std::string& dot_path) {
    std::ostringstream config;
    config << "{files=" << lua_list(files) << ",select=" << lua_quote(o.select) << ",args=" << lua_list(o.args)
           << ",format=" << lua_quote(o.format) << ",fail_on=" << lua_quote(o.fail_on)
           << ",graph=" << lua_quote(dot_path) << ",duration=" << o.duration
           << ",color=" << (isatty(STDOUT_FILENO) ? "true" : "false")
           << ",samples=" << (samples.empty() ? "nil" : samples) << "}";
    std::ostringstream sink;
    auto count = session.eval_lua("require('snag.analyze').begin(" + config.str() + ")", sink);
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
    if (!dot_path.empty()) session.allow_writes_to(dot_path);
    auto rendered = session.eval_lua("require('snag.analyze').render()", std::cout);
    std::cout.flush();
    if (!rendered) return report(Error{first_line(rendered.error().message), 2});
    auto code = session.eval_lua("require('snag.analyze').exit_code()", sink);
    if (!code) return report(Error{first_line(code.error().message), 2});
    return std::atoi(code->c_str());
}

}  // namespace

int cmd_analyze(Args& args) {
    if (args.flag("--help") || args.flag("-h")) {
        std::cout << kUsage;
        return 0;
    }
    auto options = parse_options(args);
    if (!options) return report(options.error());
    auto spec = take_target(args);
    if (!spec) return report(spec.error());
    auto files = collect_rule_files(*options);
    if (!files) return report(files.error());

    // Live targets are sampled while they run; the snapshot stop comes after.
    std::string samples;
    if (all_digits(spec->spec) && options->duration > 0) {
        progress("sampling PID " + spec->spec + " for " + std::to_string(options->duration).substr(0, 4) + " s");
        samples = sample_live(std::atoi(spec->spec.c_str()), options->duration);
    }
    progress("opening " + spec->spec);

    auto target = open_target(spec->spec, spec->options);
    if (!target) return report(target.error());
    SessionOptions session_options;
    session_options.user_commands = false;
    session_options.budget.instructions = 300'000'000;   // per rule: a looping rule stops in ~1 s
    session_options.budget.memory_bytes = 256ull << 20;
    auto session = Session::open(std::move(*target), session_options);
    if (!session) return report(session.error());
    print_warnings((*session)->target());

    std::string dot_path = options->graph;
    bool svg = dot_path.ends_with(".svg");
    if (svg) dot_path = dot_path.substr(0, dot_path.size() - 4) + ".dot";
    int code = run_analysis(**session, *options, *files, samples, dot_path);
    (*session)->target().detach();
    if (svg && code != 2) {
        if (auto drawn = dot_to_svg(dot_path, options->graph); !drawn) return report(drawn.error());
        std::filesystem::remove(dot_path);
    }
    return code;
}

}  // namespace snag::cli
