// Rules engine (stdlib/snag/rules.lua, analyze.lua, report.lua) over a fake target: rule
// validation names file and field, --select expressions, --arg typing, a failing rule goes to
// `errors` while the others report, buckets are stable, JSON has the findings shape.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_lua_fakes.hpp"

using namespace snag;
using snag::testing::make_session;
using snag::testing::eval;
using snag::testing::contains;

namespace {

struct RuleDir {
    std::filesystem::path dir;
    RuleDir() {
        dir = std::filesystem::temp_directory_path() / ("snag-rules-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
    }
    ~RuleDir() { std::filesystem::remove_all(dir); }
    std::string write(const std::string& name, const std::string& text) {
        auto p = dir / name;
        std::ofstream(p) << text;
        return p.string();
    }
};

const char* kGood = R"(return { id = "good", pattern = "Hang", title = "t", severity = "warning",
  tags = {"default", "python"}, args = { n = { default = 3, help = "h" }, on = { default = true } },
  check = function(t, args, report)
    report{ message = "n is " .. args.n .. "\nsecond line", threads = {7},
            frames = {{["function"] = "f", file = "/x/app.py", line = 3}} }
  end })";

}  // namespace

TEST_CASE("rules: --select expressions over ids and tags") {
    auto s = make_session();
    std::string prelude = "local r = require('snag.rules') "
                          "local rule = {id = 'python-deadlock', tags = {'default', 'python'}} "
                          "local slow = {id = 'memory-growth', tags = {'default', 'slow'}} ";
    CHECK(eval(*s, prelude + "return r.selector('default and not slow')(rule), r.selector('default and not slow')(slow)") ==
          "true\tfalse");
    CHECK(eval(*s, prelude + "return r.selector('python-*')(rule), r.selector('python-*')(slow)") == "true\tfalse");
    CHECK(eval(*s, prelude + "return r.selector('(slow or python) and not memory-growth')(rule)") == "true");
    CHECK(eval(*s, prelude + "return r.selector('memory-growth, python-deadlock')(slow)") == "true");
    CHECK(contains(eval(*s, "return select(2, require('snag.rules').selector('a and ('))"), "--select"));
    CHECK(contains(eval(*s, "return select(2, require('snag.rules').selector('a b'))"), "unexpected 'b'"));
}

TEST_CASE("rules: loading validates the table and names the file and the field") {
    auto s = make_session();
    RuleDir d;
    std::string bad_sev = d.write("bad.lua", "return {id='x', pattern='p', title='t', severity='fatal', check=function() end}");
    std::string no_check = d.write("nocheck.lua", "return {id='x', pattern='p', title='t', severity='info'}");
    std::string bad_arg = d.write("badarg.lua", "return {id='x', pattern='p', title='t', severity='info', args={n={help='h'}}, check=function() end}");
    std::string syntax = d.write("syntax.lua", "return {");
    auto err = [&](const std::string& path) {
        return eval(*s, "return select(2, require('snag.rules').load('" + path + "'))");
    };
    CHECK(err(bad_sev) == bad_sev + ": severity: must be one of info, warning, error, critical");
    CHECK(err(no_check) == no_check + ": check: must be a function(target, args, report)");
    CHECK(err(bad_arg) == bad_arg + ": args.n: needs a default");
    CHECK(contains(err(syntax), "syntax.lua:1:"));
    std::string good = d.write("good.lua", kGood);
    CHECK(eval(*s, "local r = require('snag.rules').load('" + good + "') return r.id, #r.targets") == "good\t2");
}

TEST_CASE("rules: --arg values are typed by the default") {
    auto s = make_session();
    RuleDir d;
    std::string good = d.write("good.lua", kGood);
    std::string pre = "local R = require('snag.rules') local r = R.load('" + good + "') ";
    CHECK(eval(*s, pre + "return math.type(R.coerce(r, 'n', '5'))") == "integer");
    CHECK(eval(*s, pre + "return R.coerce(r, 'on', 'false')") == "false");
    CHECK(eval(*s, pre + "return select(2, R.coerce(r, 'n', 'five'))") == "good.n must be an integer, not five");
    CHECK(eval(*s, pre + "return select(2, R.coerce(r, 'm', '1'))") == "rule good has no argument m");
}

TEST_CASE("analyze: a failing rule goes to errors, the others report; JSON shape and stable buckets") {
    auto s = make_session();
    RuleDir d;
    std::string good = d.write("good.lua", kGood);
    std::string raises = d.write("raises.lua",
        "return {id='raises', pattern='p', title='t', severity='critical', check=function(t, a, report) "
        "report{message='partial'} error('boom') end}");
    std::string broken = d.write("broken.lua", "return {id='broken'}");
    std::string cfg = "{files={'" + good + "','" + raises + "','" + broken + "'}, format='json', fail_on='error', "
                      "args={'good.n=9'}}";
    CHECK(eval(*s, "return require('snag.analyze').begin(" + cfg + ")") == "2");
    CHECK(eval(*s, "return require('snag.analyze').run(1)") == "ran: 1 findings");
    std::string failed = eval(*s, "return require('snag.analyze').run(2)");
    REQUIRE(contains(failed, "boom"));
    eval(*s, "require('snag.analyze').fail(2, 'raises.lua:1: boom')");
    std::string json = eval(*s, "return require('snag.report').json(require('snag.analyze').result())");
    CHECK(contains(json, R"("message":"n is 9 second line")"));
    CHECK(contains(json, R"("threads":[7])"));
    CHECK(contains(json, R"({"message":"raises.lua:1: boom","phase":"check","rule":"raises"})"));
    CHECK(contains(json, R"("phase":"load")"));
    CHECK(contains(json, "broken.lua: pattern: must be a non-empty string"));
    CHECK(contains(json, R"("rules_run":["good","raises"])"));
    CHECK_FALSE(contains(json, "partial"));  // a failed rule's findings are dropped
    // Bytes that are not UTF-8 (a damaged core's names) become U+FFFD: the document stays JSON.
    CHECK(eval(*s, "return require('snag.report').json({name = 'w\\255\\195orker', ok = 'caf\\195\\169'})") ==
          "{\"name\":\"w\xef\xbf\xbd\xef\xbf\xbdorker\",\"ok\":\"caf\xc3\xa9\"}");
    // warning < error: exit 0 at --fail-on error.
    CHECK(eval(*s, "return require('snag.analyze').exit_code()") == "0");
    // The bucket depends on rule, origin and function/file names, not on lines or addresses.
    CHECK(eval(*s, "local a = require('snag.analyze') "
                   "return a.bucket('r', nil, {{['function']='f', file='/a/x.py', line=1}}) == "
                   "a.bucket('r', nil, {{['function']='f', file='/b/x.py', line=99}}), "
                   "a.bucket('r', nil, {{['function']='f'}}) == a.bucket('r', nil, {{['function']='g'}})") ==
          "true\tfalse");
}

TEST_CASE("analyze: usage errors in --select and --arg are errors of begin()") {
    auto s = make_session();
    RuleDir d;
    std::string good = d.write("good.lua", kGood);
    CHECK(contains(eval(*s, "return require('snag.analyze').begin{files={'" + good + "'}, select='('}"), "--select"));
    CHECK(contains(eval(*s, "return require('snag.analyze').begin{files={'" + good + "'}, args={'good.n=x'}}"),
                   "good.n must be an integer, not x"));
    CHECK(contains(eval(*s, "return require('snag.analyze').begin{files={'" + good + "'}, args={'nope.n=1'}}"),
                   "no selected rule has the id nope"));
}

TEST_CASE("facts: a kernel core's leader CPU time is the group total; the others' times are subtracted") {
    auto s = make_session();
    // Leader 100 recorded 7.5 s = its own 1.0 + 4.0 + 2.5 of threads 101 and 102.
    std::string threads = "{{tid=100, cpu=7.5}, {tid=101, cpu=4.0}, {tid=102, cpu=2.5}, {tid=103}}";
    std::string own = "local c = require('snag.facts').own_cpu_times(" + threads + ", 100, %s) "
                      "return c[100], c[101], c[102], c[103]";
    auto with = [&](const char* kernel) {
        char code[512];
        std::snprintf(code, sizeof code, own.c_str(), kernel);
        return eval(*s, code);
    };
    CHECK(with("true") == "1.0\t4.0\t2.5\tnil");
    CHECK(with("false") == "7.5\t4.0\t2.5\tnil");  // snag dump cores record each thread's own time
    // Rounding in the recorded times never makes the leader's own time negative.
    CHECK(eval(*s, "return require('snag.facts').own_cpu_times({{tid=5, cpu=1.0}, {tid=6, cpu=1.02}}, 5, true)[5]") ==
          "0");
}

TEST_CASE("stack_trace_set.common_frames: a loop's frames over samples; different code each sample is no loop") {
    auto s = make_session();
    // Innermost first. The loop find_archive is in every sample, under a library call or not.
    const char* loop = R"(local F = function(fn, file, line) return {["function"] = fn, file = file, line = line} end
      local app = function(f) return not f.file:find("^/lib/") end
      local outer = {F("archive_finder", "a.py", 50), F("run", "/lib/threading.py", 1010)}
      local function with(...) local t = {...} for _, f in ipairs(outer) do t[#t + 1] = f end return t end
      local samples = { with(F("dirname", "/lib/posixpath.py", 150), F("find_archive", "a.py", 41)),
                        with(F("find_archive", "a.py", 33)),
                        with(F("note_root_visit", "a.py", 20), F("find_archive", "a.py", 39)) }
      local frames, lines = require("snag.stack_trace_set").common_frames(samples, 2, app)
      return frames[1]["function"], frames[1].line, #frames, table.concat(lines, ","))";
    CHECK(eval(*s, loop) == "find_archive\t39\t3\t33,39,41");
    // A server: only serve_forever and handle are common, three application frames run inside.
    const char* server = R"(local F = function(fn) return {["function"] = fn, file = "s.py", line = 1} end
      local samples = { {F("crc_block"), F("checksum"), F("handle_upload"), F("handle"), F("serve_forever")},
                        {F("score"), F("match"), F("handle_search"), F("handle"), F("serve_forever")} }
      local sets = require("snag.stack_trace_set")
      local frames, why = sets.common_frames(samples, 2)
      local none, why2 = sets.common_frames({{F("a")}, {F("b")}}, 2)
      return tostring(frames), why, tostring(none), why2)";
    CHECK(eval(*s, server) ==
          "nil\t3 frames run inside handle in one sample: different code each time\tnil\t"
          "no Python frame is common to the samples");
}

TEST_CASE("analyze: a process tree's results merge into one report naming each finding's pid") {
    auto s = make_session();
    std::string a = "{target={kind='process', pid=10, name='python'}, rules_run={'busy-loop'}, errors={}, "
                    "notes={{rule='busy-loop', message='m'}}, findings={}}";
    std::string b = "{target={kind='process', pid=11, name='python'}, rules_run={'busy-loop', 'crash'}, errors={}, "
                    "notes={{rule='busy-loop', message='m'}}, findings={{rule='busy-loop', pattern='Spiking Thread', "
                    "title='t', severity='warning', message='spins', threads={11}, frames={}, evidence={}, "
                    "bucket='b', pid=11}}}";
    std::string text = eval(*s, "return require('snag.analyze').render_tree({" + a + "," + b +
                                    "}, {format='text', fail_on='warning', duration=1})");
    CHECK(contains(text, "process tree: 2 processes: 10 python, 11 python"));
    CHECK(contains(text, "pid 11: spins"));
    CHECK(contains(text, "note (busy-loop, pids 10, 11): m"));
    CHECK(eval(*s, "return require('snag.analyze').exit_code()") == "1");
    // export() output is a Lua constructor that reads back as the same result.
    CHECK(eval(*s, "local a = require('snag.analyze') "
                   "local t = load('return ' .. a.export())() "
                   "return t.target.kind == target.kind, #t.findings, t.findings[1].message") == "true\t1\tspins");
}
