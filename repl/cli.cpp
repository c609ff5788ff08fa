#include "cli.hpp"

#include <cstdio>
#include <string>

namespace snag::cli {

bool Args::flag(const std::string& name) {
    bool found = false;
    for (auto it = words_.begin(); it != words_.end();) {
        if (*it == name) {
            it = words_.erase(it);
            found = true;
        } else {
            ++it;
        }
    }
    return found;
}

std::vector<std::string> Args::options(const std::string& name) {
    std::vector<std::string> values;
    const std::string prefix = name + "=";
    for (size_t i = 0; i < words_.size();) {
        if (words_[i] == name && i + 1 < words_.size()) {
            values.push_back(words_[i + 1]);
            words_.erase(words_.begin() + i, words_.begin() + i + 2);
        } else if (words_[i].rfind(prefix, 0) == 0) {
            values.push_back(words_[i].substr(prefix.size()));
            words_.erase(words_.begin() + i);
        } else {
            ++i;
        }
    }
    return values;
}

std::string Args::option(const std::string& name, const std::string& fallback) {
    auto values = options(name);
    return values.empty() ? fallback : values.back();
}

Expected<TargetSpec> take_target(Args& args) {
    TargetSpec spec;
    spec.options.exe_override = args.option("--exe");
    spec.options.sysroot = args.option("--sysroot");
    spec.options.non_blocking = args.flag("--no-stop");
    spec.options.allow_truncated = args.flag("--allow-truncated");
    for (const auto& word : args.rest()) {
        if (word.rfind("--", 0) == 0) return fail("unknown option " + word);
    }
    if (args.rest().empty()) return fail("missing TARGET (a PID or a core file)");
    if (args.rest().size() > 1) return fail("unexpected argument " + args.rest()[1]);
    spec.spec = args.rest()[0];
    return spec;
}

int print_target_warnings(const Target& target, const TargetOptions& options, bool stops_later) {
    for (const auto& warning : target.warnings())
        if (!stops_later || !warning.starts_with("--no-stop:")) std::fprintf(stderr, "snag: warning: %s\n", warning.c_str());
    int astray = target.files_missing_or_different();
    if (!astray) return 0;
    std::string where;
    if (int inside = target.process().namespace_pid)
        where = "this process ran in a container (pid " + std::to_string(inside) + " in its own PID namespace); ";
    if (options.sysroot.empty())
        std::fprintf(stderr, "snag: hint: %s%d of the files the core maps are missing here or differ: pass --sysroot DIR "
                     "holding the files of the machine or container it came from (a container's root filesystem)\n",
                     where.c_str(), astray);
    else
        std::fprintf(stderr, "snag: hint: %s%d of the files the core maps are missing under --sysroot %s or differ "
                     "from those the process ran\n", where.c_str(), astray, options.sysroot.c_str());
    return astray;
}

int report(const Error& error) {
    std::fprintf(stderr, "snag: %s\n", error.message.c_str());
    return error.exit_code;
}

}  // namespace snag::cli
