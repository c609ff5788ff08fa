#include "symbols/debuginfod.hpp"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#if __has_include(<elfutils/debuginfod.h>)
#include <elfutils/debuginfod.h>
#define SNAG_HAVE_DEBUGINFOD 1
#endif

namespace snag {

#ifndef SNAG_HAVE_DEBUGINFOD

DebuginfodFetch debuginfod_debug_file(const std::string&, const std::string&) { return {}; }

#else

namespace {

using Clock = std::chrono::steady_clock;

// libdebuginfod links libcurl and its TLS stack: loaded only when a lookup is due, as libdwfl does,
// so a run without $DEBUGINFOD_URLS pays nothing for it.
struct Library {
    decltype(&debuginfod_begin) begin = nullptr;
    decltype(&debuginfod_end) end = nullptr;
    decltype(&debuginfod_find_debuginfo) find_debuginfo = nullptr;
    decltype(&debuginfod_set_progressfn) set_progressfn = nullptr;
    decltype(&debuginfod_set_user_data) set_user_data = nullptr;
    decltype(&debuginfod_get_user_data) get_user_data = nullptr;
    std::string error;
};

template <typename F>
bool bind(void* handle, const char* name, F* out) {
    *out = reinterpret_cast<F>(dlsym(handle, name));
    return *out != nullptr;
}

const Library& library() {
    static const Library lib = [] {
        Library l;
        void* h = dlopen(DEBUGINFOD_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            l.error = std::string("cannot load ") + DEBUGINFOD_SONAME + " (" + dlerror() + "); install libdebuginfod1";
            return l;
        }
        if (!bind(h, "debuginfod_begin", &l.begin) || !bind(h, "debuginfod_end", &l.end) ||
            !bind(h, "debuginfod_find_debuginfo", &l.find_debuginfo) ||
            !bind(h, "debuginfod_set_progressfn", &l.set_progressfn) ||
            !bind(h, "debuginfod_set_user_data", &l.set_user_data) ||
            !bind(h, "debuginfod_get_user_data", &l.get_user_data))
            l.error = std::string(DEBUGINFOD_SONAME) + " lacks the debuginfod client functions";
        return l;
    }();
    return lib;
}

Clock::duration time_limit() {
    const char* text = getenv("SNAG_DEBUGINFOD_TIME_LIMIT");
    double seconds = text && *text ? atof(text) : 60.0;
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds > 0 ? seconds : 0));
}

// One budget for the whole process: every lookup's time counts against it.
struct Budget {
    Clock::duration spent{};
    bool warned = false;
};

Budget& budget() {
    static Budget b;
    return b;
}

struct Transfer {
    const std::string* module_path;
    Clock::time_point started;
    Clock::duration allowed;
    bool shown = false;     // a progress line is on the terminal and must be erased
    bool timed_out = false;
};

// Called by libdebuginfod about once a second and on each received block; non-zero cancels.
int on_progress(debuginfod_client* client, long done, long total) {
    auto* t = static_cast<Transfer*>(library().get_user_data(client));
    Clock::duration elapsed = Clock::now() - t->started;
    if (elapsed > t->allowed) {
        t->timed_out = true;
        return 1;
    }
    // Lookups the server answers at once (404s for modules it lacks) never draw a line.
    if (!isatty(STDERR_FILENO) || (done <= 0 && elapsed < std::chrono::seconds(1))) return 0;
    if (total > 0)
        fprintf(stderr, "\r\033[KDownloading separate debug info for %s: %.2f of %.2f MB", t->module_path->c_str(),
                done / 1e6, total / 1e6);
    else
        fprintf(stderr, "\r\033[KDownloading separate debug info for %s: %.2f MB", t->module_path->c_str(),
                done / 1e6);
    t->shown = true;
    return 0;
}

std::string warn_once(std::string text) {
    if (budget().warned) return {};
    budget().warned = true;
    return "debuginfod: " + text;
}

}  // namespace

DebuginfodFetch debuginfod_debug_file(const std::string& build_id, const std::string& module_path) {
    const char* urls = getenv(DEBUGINFOD_URLS_ENV_VAR);
    if (!urls || !*urls || build_id.empty()) return {};
    const Library& lib = library();
    if (!lib.error.empty()) return {"", warn_once(lib.error)};
    Clock::duration limit = time_limit();
    Budget& used = budget();
    if (used.spent >= limit)
        return {"", warn_once("time limit reached (SNAG_DEBUGINFOD_TIME_LIMIT); no lookup for " + module_path)};

    debuginfod_client* client = lib.begin();
    if (!client) return {"", warn_once("cannot start a client")};
    Transfer transfer{&module_path, Clock::now(), limit - used.spent};
    lib.set_user_data(client, &transfer);
    lib.set_progressfn(client, on_progress);
    char* path = nullptr;
    int fd = lib.find_debuginfo(client, reinterpret_cast<const unsigned char*>(build_id.c_str()), 0, &path);
    lib.end(client);
    used.spent += Clock::now() - transfer.started;
    if (transfer.shown) fputs("\r\033[K", stderr);

    DebuginfodFetch out;
    if (fd >= 0) {
        close(fd);
        if (path) out.path = path;
    } else if (transfer.timed_out) {
        out.warning = warn_once("time limit reached (SNAG_DEBUGINFOD_TIME_LIMIT) while fetching the debug file of " +
                                module_path);
    } else if (fd != -ENOENT) {
        out.warning = warn_once(module_path + " (build-id " + build_id + "): " + strerror(-fd));
    }
    free(path);
    return out;
}

#endif

}  // namespace snag
