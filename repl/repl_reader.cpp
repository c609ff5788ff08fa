#include "repl_reader.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <editline/readline.h>

namespace snag::cli {

namespace {

// libedit calls back through C function pointers: the completer lives here while a reader exists.
Completer g_completer;
std::vector<std::string> g_matches;

char* next_match(const char*, int state) {
    static size_t index;
    if (state == 0) index = 0;
    if (index >= g_matches.size()) return nullptr;
    return strdup(g_matches[index++].c_str());
}

char** complete(const char* word, int start, int) {
    std::string line(rl_line_buffer ? rl_line_buffer : "", static_cast<size_t>(start));
    g_matches = g_completer ? g_completer(line, word) : std::vector<std::string>{};
    return rl_completion_matches(word, next_match);
}

class EditReader final : public LineReader {
public:
    EditReader(std::string history_path, Completer completer) : history_path_(std::move(history_path)) {
        g_completer = std::move(completer);
        rl_readline_name = "snag";
        rl_attempted_completion_function = complete;
        // '$' and '/' stay inside words so $variables and x/4ga complete as one token.
        static char breaks[] = " \t\n\"'`@><=;|&{(";
        rl_completer_word_break_characters = breaks;
        using_history();
        stifle_history(2000);
        if (!history_path_.empty()) read_history(history_path_.c_str());
    }
    ~EditReader() override {
        if (!history_path_.empty()) write_history(history_path_.c_str());
        g_completer = nullptr;
    }

    std::optional<std::string> read(const char* prompt) override {
        char* line = readline(prompt);
        if (!line) return std::nullopt;
        std::string out(line);
        std::free(line);
        return out;
    }
    void remember(const std::string& line) override {
        if (line.find_first_not_of(" \t") == std::string::npos) return;
        add_history(line.c_str());
        // Written at once so a crash or kill keeps what was typed.
        if (!history_path_.empty()) write_history(history_path_.c_str());
    }

private:
    std::string history_path_;
};

class StreamReader final : public LineReader {
public:
    std::optional<std::string> read(const char*) override {
        std::string line;
        if (!std::getline(std::cin, line)) return std::nullopt;
        return line;
    }
    void remember(const std::string&) override {}
};

}  // namespace

std::unique_ptr<LineReader> make_edit_reader(const std::string& history_path, Completer completer) {
    return std::make_unique<EditReader>(history_path, std::move(completer));
}

std::unique_ptr<LineReader> make_stream_reader() { return std::make_unique<StreamReader>(); }

std::string default_history_path() {
    if (const char* env = std::getenv("SNAG_HISTORY"); env && *env) return env;
    const char* home = std::getenv("HOME");
    if (!home || !*home) return "";
    std::string dir = std::string(home) + "/.local/share/snag";
    for (size_t pos = std::string(home).size() + 1; pos != std::string::npos; pos = dir.find('/', pos + 1))
        ::mkdir(dir.substr(0, pos).c_str(), 0700);
    ::mkdir(dir.c_str(), 0700);
    return dir + "/history";
}

}  // namespace snag::cli
