#include "repl_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <editline/readline.h>

namespace snag::cli {

namespace {

// libedit calls back through C function pointers: the completer lives here while a reader exists.
Completer g_completer;
std::function<bool()> g_interrupted;
std::vector<std::string> g_matches;

// Whole lines (or a Ctrl-D) typed while a command ran, read from the cooked terminal.
std::string g_typeahead;
bool g_typeahead_eof = false;
// The terminal opened a second time, non-blocking: a Ctrl-C can flush the input between ppoll
// saying "readable" and the read, which must then not block with SIGINT held off.
int g_key_fd = -1;

// Keys typed while a command ran sit in the cooked line discipline, where Ctrl-D is an end-of-file
// mark that raw mode would hand over as a NUL byte; take those lines while still cooked. Then go
// raw before the prompt: libedit itself prints it first, leaving the same gap for a fast Ctrl-D.
int raw_before_prompt() {
    int fd = g_key_fd >= 0 ? g_key_fd : ::fileno(rl_instream ? rl_instream : stdin);
    pollfd ready{fd, POLLIN, 0};
    while (!g_typeahead_eof && ::poll(&ready, 1, 0) == 1 && (ready.revents & POLLIN)) {
        char buf[4096];
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got <= 0) {
            g_typeahead_eof = got == 0;
            break;
        }
        g_typeahead.append(buf, static_cast<size_t>(got));
    }
    rl_prep_terminal(1);
    return 0;
}

// One byte for libedit. SIGINT stays blocked except inside ppoll, so a Ctrl-C that lands before
// the wait begins is still seen and ends the line instead of leaving readline blocked in read().
int read_key(FILE* in) {
    sigset_t sigint, normal;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    ::sigprocmask(SIG_BLOCK, &sigint, &normal);
    int fd = g_key_fd >= 0 ? g_key_fd : ::fileno(in), key = EOF;
    for (;;) {
        if (g_interrupted && g_interrupted()) {
            g_typeahead.clear();  // Ctrl-C drops what was typed ahead too
            break;
        }
        if (!g_typeahead.empty()) {
            key = static_cast<unsigned char>(g_typeahead[0]);
            g_typeahead.erase(0, 1);
            break;
        }
        if (g_typeahead_eof) {
            g_typeahead_eof = false;
            break;
        }
        pollfd ready{fd, POLLIN, 0};
        if (::ppoll(&ready, 1, nullptr, &normal) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        unsigned char byte;
        ssize_t got = ::read(fd, &byte, 1);
        if (got == 1) key = byte;
        if (got == 1 || got == 0 || (errno != EINTR && errno != EAGAIN)) break;
    }
    ::sigprocmask(SIG_SETMASK, &normal, nullptr);
    return key;
}

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
    EditReader(std::string history_path, Completer completer, std::function<bool()> interrupted)
        : history_path_(std::move(history_path)) {
        g_completer = std::move(completer);
        g_interrupted = std::move(interrupted);
        if (const char* tty = ::ttyname(STDIN_FILENO))
            g_key_fd = ::open(tty, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        rl_getc_function = read_key;
        rl_pre_input_hook = raw_before_prompt;
        rl_readline_name = "snag";
        rl_attempted_completion_function = complete;
        // '$' and '/' stay inside words so $variables and x/4ga complete as one token.
        static char breaks[] = " \t\n\"'`@><=;|&{(";
        rl_completer_word_break_characters = breaks;
        rl_basic_word_break_characters = breaks;  // the one libedit reads: its default breaks at '$'
        using_history();
        stifle_history(2000);
        if (!history_path_.empty()) read_history(history_path_.c_str());
    }
    ~EditReader() override {
        if (!history_path_.empty()) write_history(history_path_.c_str());
        g_completer = nullptr;
        g_interrupted = nullptr;
        if (g_key_fd >= 0) ::close(g_key_fd);
        g_key_fd = -1;
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

std::unique_ptr<LineReader> make_edit_reader(const std::string& history_path, Completer completer,
                                             std::function<bool()> interrupted) {
    return std::make_unique<EditReader>(history_path, std::move(completer), std::move(interrupted));
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
