// snag rules list|test [PATH]: shows the rules of the default pack (or PATH), and runs each
// rule's test spec (X.test.lua beside X.lua): start the named scenario under the named Pythons,
// wait for its readiness file, run `snag analyze` on it live and on a `snag dump` core, and check
// that the rule fires (or stays silent). One line per case, a summary per rule.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "rules_pack.hpp"
#include "subcommands.hpp"

namespace snag::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Expected<std::vector<std::string>> files_of(const std::vector<std::string>& paths) {
    std::vector<std::string> files;
    std::vector<std::string> roots = paths;
    if (roots.empty()) {
        std::string dir = builtin_rules_dir();
        if (dir.empty()) return fail("the default rules pack was not found (set SNAG_RULES to its directory)");
        roots.push_back(dir);
    }
    for (const auto& root : roots) {
        auto found = rule_files(root);
        if (!found) return std::unexpected(found.error());
        files.insert(files.end(), found->begin(), found->end());
    }
    return files;
}

std::string lua_list(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& s : items) out += lua_quote(s) + ",";
    return out + "}";
}

int list(const std::vector<std::string>& paths) {
    auto files = files_of(paths);
    if (!files) return report(files.error());
    auto lua = BareLua::open();
    if (!lua) return report(lua.error());
    auto text = (*lua)->eval("local t, e = require('snag.rules').list_text(" + lua_list(*files) +
                             ") return t .. (e ~= '' and ('\\0' .. e) or '')");
    if (!text) return report(text.error());
    auto cut = text->find('\0');
    std::cout << text->substr(0, cut);
    if (cut != std::string::npos) {
        std::cerr << "snag: some rules do not load:\n" << text->substr(cut + 1) << "\n";
        return 2;
    }
    return 0;
}

// ---- test ----

// "3.12" → /root/.pyenv/versions/3.12.x/bin/python3; an absolute path is taken as is.
std::string find_python(const std::string& version) {
    if (version.starts_with("/")) return fs::exists(version) ? version : "";
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator("/root/.pyenv/versions", ec)) {
        std::string name = e.path().filename().string();
        if ((name == version || name.starts_with(version + ".")) && fs::exists(e.path() / "bin/python3"))
            found.push_back((e.path() / "bin/python3").string());
    }
    std::sort(found.begin(), found.end());
    if (!found.empty()) return found.back();
    std::string system = "/usr/bin/python" + version;
    return fs::exists(system) ? system : "";
}

std::string find_scenario(const std::string& name, const std::string& spec_file) {
    std::vector<fs::path> dirs;
    if (const char* env = std::getenv("SNAG_SCENARIOS")) dirs.push_back(env);
    dirs.push_back(fs::path(spec_file).parent_path());
    dirs.push_back(fs::path(SNAG_SOURCE_DIR) / "examples/scenarios");
    for (const auto& d : dirs)
        if (fs::exists(d / name)) return (d / name).string();
    return "";
}

struct Running {
    pid_t pid = -1;
    ~Running() {
        if (pid > 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
};

// Starts python scenario in its own process group with SNAG_READY set; waits for readiness.
// kernel_core: the scenario runs in dir with RLIMIT_CORE raised, so a crash leaves dir/core*.
Expected<void> start(Running& run, const std::string& python, const std::string& scenario, const json& c,
                     const std::string& dir, bool kernel_core) {
    const json& env = c["env"];
    std::string ready = dir + "/ready";
    std::fflush(nullptr);  // the child must not inherit (and re-emit) buffered output
    pid_t child = fork();
    if (child < 0) return fail("cannot fork");
    if (child == 0) {
        setsid();
        if (kernel_core) {
            rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
            setrlimit(RLIMIT_CORE, &unlimited);
            if (chdir(dir.c_str()) != 0) _exit(126);
        }
        setenv("SNAG_READY", ready.c_str(), 1);
        setenv("SNAG_TRUTH", (dir + "/truth.json").c_str(), 1);
        setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
        if (env.is_object())
            for (auto it = env.begin(); it != env.end(); ++it)
                setenv(it.key().c_str(), it.value().is_string() ? it.value().get<std::string>().c_str()
                                                                : it.value().dump().c_str(), 1);
        std::freopen("/dev/null", "r", stdin);
        std::freopen((dir + "/stdout").c_str(), "w", stdout);
        std::freopen((dir + "/stderr").c_str(), "w", stderr);
        std::vector<std::string> words = {python, scenario};
        if (c["argv"].is_array())
            for (const auto& a : c["argv"]) words.push_back(a.get<std::string>());
        std::vector<char*> argv;
        for (auto& w : words) argv.push_back(w.data());
        argv.push_back(nullptr);
        execv(python.c_str(), argv.data());
        _exit(127);
    }
    run.pid = child;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    if (kernel_core) {
        // Wait for the crash itself; the kernel has written the core once the child is reaped.
        while (waitpid(child, nullptr, WNOHANG) != child) {
            if (std::chrono::steady_clock::now() > deadline) return fail("the scenario did not crash within 60 s");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        run.pid = -1;
        return {};
    }
    while (!fs::exists(ready)) {
        if (waitpid(child, nullptr, WNOHANG) == child) {
            run.pid = -1;
            return fail("the scenario exited before it was ready (see " + dir + "/stderr)");
        }
        if (std::chrono::steady_clock::now() > deadline) return fail("the scenario was not ready within 60 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The reporter thread that wrote the files exits right after: let it go.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return {};
}

// Runs this snag binary with words; returns {exit status, stdout}.
std::pair<int, std::string> run_snag(const std::vector<std::string>& words, const std::string& out_file) {
    std::fflush(nullptr);
    pid_t child = fork();
    if (child == 0) {
        std::freopen(out_file.c_str(), "w", stdout);
        std::freopen((out_file + ".err").c_str(), "w", stderr);
        std::vector<char*> argv;
        static std::string self = "/proc/self/exe";
        argv.push_back(self.data());
        for (const auto& w : words) argv.push_back(const_cast<char*>(w.c_str()));
        argv.push_back(nullptr);
        execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    std::ifstream in(out_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, text};
}

json read_truth(const std::string& dir) {
    std::ifstream in(dir + "/truth.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    json truth = json::parse(text, nullptr, false);
    return truth.is_discarded() ? json::object() : truth;
}

// One mode of one case: "" when it passed, else why not.
std::string check_mode(const std::string& id, const json& c, const std::string& mode, pid_t pid,
                       const std::string& rule_file, bool builtin, const std::string& dir) {
    std::string target = std::to_string(pid);
    if (mode == "kernel-core") {
        target = "";
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.path().filename().string().starts_with("core")) target = e.path().string();
        if (target.empty()) return "the kernel wrote no core in " + dir + " (see /proc/sys/kernel/core_pattern)";
    } else if (mode == "core") {
        std::string core = dir + "/core";
        auto [status, out] = run_snag({"dump", target, "-o", core}, dir + "/dump.out");
        if (status != 0) return "snag dump failed (exit " + std::to_string(status) + ")";
        target = core;
    }
    std::vector<std::string> words = {"analyze", target, "--select", id, "--format", "json", "--fail-on",
                                      "critical", "--duration", c.value("duration", std::string("1"))};
    if (mode == "live-tree") words.push_back("--children");
    if (!builtin) words.insert(words.end(), {"--rules", rule_file});
    if (c["args"].is_array())
        for (const auto& a : c["args"]) words.insert(words.end(), {"--arg", a.get<std::string>()});
    auto [status, out] = run_snag(words, dir + "/analyze-" + mode + ".json");
    if (status == 2) return "snag analyze failed: see " + dir + "/analyze-" + mode + ".json.err";
    json result = json::parse(out, nullptr, false);
    if (result.is_discarded()) return "snag analyze printed no JSON";
    for (const auto& e : result["errors"])
        if (e.value("rule", "") == id) return "rule error: " + e.value("message", "");
    // pid: only the process the truth names may fire (the stuck worker of a pool, not the idle ones).
    int want_pid = 0;
    if (c.contains("pid")) {
        json truth = read_truth(dir);
        std::string key = c["pid"].get<std::string>();
        if (!truth.contains(key) || !truth[key].is_number_integer()) return "the scenario's truth has no pid " + key;
        want_pid = truth[key].get<int>();
    }
    bool fired = false;
    std::string match = c.value("match", "");
    // at_least: findings below this severity do not count (an idle process's info finding).
    static const std::vector<std::string> kSeverities = {"info", "warning", "error", "critical"};
    auto rank = [&](const std::string& s) {
        return std::find(kSeverities.begin(), kSeverities.end(), s) - kSeverities.begin();
    };
    auto at_least = rank(c.value("at_least", std::string("info")));
    for (const auto& f : result["findings"]) {
        if (f.value("rule", "") != id || rank(f.value("severity", "info")) < at_least) continue;
        int pid = f.value("pid", 0);
        if (want_pid && pid != want_pid)
            return "fired for pid " + std::to_string(pid) + ", not only " + std::to_string(want_pid) + ": " +
                   f.value("message", "");
        if (f.value("message", "").find(match) != std::string::npos) fired = true;
    }
    bool want = c.value("expect", "") == "fire";
    if (fired == want) return "";
    return want ? "did not fire" : "fired: " + result["findings"][0].value("message", "");
}

struct Tally {
    int passed = 0, failed = 0, skipped = 0;
};

void test_rule(const std::string& rule_file, bool builtin, BareLua& lua, Tally& total) {
    std::string spec_file = spec_file_of(rule_file);
    std::string name = fs::path(rule_file).filename().string();
    if (spec_file.empty() && lua.eval("return tostring(require('snag.rules').is_extension(" + lua_quote(rule_file) +
                                      "))").value_or("") == "true")
        return;  // a pack extension (idle points, app-frame patterns): nothing to test on its own
    if (spec_file.empty()) {
        std::cout << name << ": no test spec (" << name.substr(0, name.size() - 4) << ".test.lua)\n";
        total.failed++;
        return;
    }
    auto text = lua.eval("return require('snag.rules').spec_json(" + lua_quote(rule_file) + "," +
                         lua_quote(spec_file) + ")");
    if (!text) {
        std::cout << name << ": FAIL " << text.error().message << "\n";
        total.failed++;
        return;
    }
    json spec = json::parse(*text);
    std::string id = spec["id"];
    Tally mine;
    for (const auto& c : spec["cases"]) {
        for (const auto& v : c["python"]) {
            std::string version = v.get<std::string>();
            std::string python = find_python(version);
            std::string scenario = find_scenario(c["scenario"], spec_file);
            std::string label = id + " " + c["expect"].get<std::string>() + " " + c["scenario"].get<std::string>();
            if (c["argv"].is_array())
                for (const auto& a : c["argv"]) label += " " + a.get<std::string>();
            label += " python" + version;
            if (python.empty() || scenario.empty()) {
                std::cout << "  skip " << label << ": " << (python.empty() ? "no such Python" : "no such scenario") << "\n";
                mine.skipped++;
                continue;
            }
            char tmpl[] = "/tmp/snag-rules-test-XXXXXX";
            std::string dir = mkdtemp(tmpl) ? tmpl : "/tmp";
            bool kernel_core = false;
            for (const auto& m : c["modes"]) kernel_core = kernel_core || m == "kernel-core";
            Running run;
            if (auto started = start(run, python, scenario, c, dir, kernel_core); !started) {
                std::cout << "  FAIL " << label << ": " << started.error().message << "\n";
                mine.failed++;
                continue;
            }
            int failed_before = mine.failed;
            for (const auto& m : c["modes"]) {
                std::string why = check_mode(id, c, m, run.pid, rule_file, builtin, dir);
                std::cout << "  " << (why.empty() ? "pass " : "FAIL ") << label << " " << m.get<std::string>()
                          << (why.empty() ? "" : ": " + why) << "\n";
                (why.empty() ? mine.passed : mine.failed)++;
            }
            std::cout.flush();
            // A failing case keeps its directory (scenario output, cores, analyze JSON) for a look.
            if (mine.failed == failed_before) {
                std::error_code ec;
                fs::remove_all(dir, ec);
            } else {
                std::cout << "  (kept " << dir << ")\n";
            }
        }
    }
    std::cout << id << ": " << (mine.failed ? "FAIL" : "pass") << " (" << mine.passed << " passed, " << mine.failed
              << " failed, " << mine.skipped << " skipped)\n";
    total.passed += mine.passed;
    total.failed += mine.failed;
    total.skipped += mine.skipped;
}

int test(const std::vector<std::string>& paths, const std::string& only) {
    auto files = files_of(paths);
    if (!files) return report(files.error());
    auto lua = BareLua::open();
    if (!lua) return report(lua.error());
    Tally total;
    std::string builtin = builtin_rules_dir();
    for (const auto& file : *files) {
        std::string stem = fs::path(file).stem().string();
        if (!only.empty() && stem != only) continue;
        std::error_code ec;
        bool is_builtin = !builtin.empty() && fs::equivalent(fs::path(file).parent_path(), builtin, ec);
        test_rule(file, is_builtin, **lua, total);
    }
    std::cout << "rules test: " << total.passed << " passed, " << total.failed << " failed, " << total.skipped
              << " skipped\n";
    return total.failed ? 1 : 0;
}

}  // namespace

int cmd_rules(Args& args) {
    if (args.flag("--help") || args.flag("-h") || args.rest().empty()) {
        std::cout << "usage: snag rules list [PATH]...\n"
                     "       snag rules test [PATH]... [--only ID]\n"
                     "PATH: a rule file or a directory of rules (default: the built-in pack).\n"
                     "test runs each rule's spec (X.test.lua beside X.lua) on its scenarios, live and\n"
                     "as a snag dump core, and reports pass/fail per rule (exit 1 when any fails).\n";
        return args.rest().empty() ? 2 : 0;
    }
    std::string only = args.option("--only");
    std::vector<std::string> words = args.rest();
    std::string verb = words.front();
    std::vector<std::string> paths(words.begin() + 1, words.end());
    if (verb == "list") return list(paths);
    if (verb == "test") return test(paths, only);
    return report(Error{"unknown rules action " + verb + " (list or test)", 2});
}

}  // namespace snag::cli
