#include "repl_pager.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace snag::cli {

namespace {

int terminal_rows() {
    winsize size{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0) return size.ws_row;
    return 24;
}

bool page(const std::string& text) {
    const char* env = std::getenv("PAGER");
    std::string pager = env && *env ? env : "less -FRX";
    // Quitting the pager early must not kill snag with SIGPIPE (its handler detaches and exits).
    struct sigaction ignore {}, previous {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous);
    FILE* pipe = ::popen(pager.c_str(), "w");
    bool ok = pipe != nullptr;
    if (pipe) {
        std::fwrite(text.data(), 1, text.size(), pipe);
        ::pclose(pipe);
    }
    ::sigaction(SIGPIPE, &previous, nullptr);
    return ok;
}

}  // namespace

void show_output(const std::string& text) {
    if (text.empty()) return;
    if (::isatty(STDOUT_FILENO)) {
        long lines = std::count(text.begin(), text.end(), '\n');
        if (lines >= terminal_rows() - 1 && page(text)) return;
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

}  // namespace snag::cli
