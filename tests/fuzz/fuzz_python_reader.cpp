// libFuzzer harness: the CPython reader (interpreters, thread states, frames, code objects, line
// tables, locals' reprs) over a damaged memory image taken from a real core.
//
// Input: "SNAGPY1\0", the interpreter's minor version and root addresses (PythonRuntime fields),
// then pages of memory: {u64 address, 4096 bytes}. Seeds are made from a core by running
//   SNAG_FUZZ_MAKE_SEED=CORE:OUT fuzz_python_reader
// which reads the core's Python state once and writes every page that read touched.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "python/runtime_discovery.hpp"
#include "python/threads.hpp"
#include "symbols/symbolizer.hpp"
#include "target/target.hpp"

namespace {

constexpr char kMagic[8] = {'S', 'N', 'A', 'G', 'P', 'Y', '1', '\0'};
constexpr uint64_t kPage = 4096;

struct Header {
    char magic[8];
    uint64_t minor;
    uint64_t runtime, interp_head_at, tstate_current_at, gil_locked_at, gil_last_holder_at, gc_collecting_at;
};

// A target that is only pages of memory (no threads, no mappings).
class PagesTarget : public snag::Target {
public:
    std::map<uint64_t, const uint8_t*> pages;

    snag::TargetKind kind() const override { return snag::TargetKind::Core; }
    const snag::ProcessInfo& process() const override { return process_; }
    const std::vector<snag::Thread>& threads() const override { return threads_; }
    const std::vector<snag::Mapping>& mappings() const override { return mappings_; }
    const std::vector<snag::AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<snag::SignalInfo> signal() const override { return std::nullopt; }
    std::string local_path(const std::string&) const override { return ""; }
    const std::vector<std::string>& warnings() const override { return warnings_; }
    size_t read(uint64_t addr, void* out, size_t len) override {
        size_t done = 0;
        while (done < len) {
            uint64_t at = addr + done, base = at & ~(kPage - 1);
            auto it = pages.find(base);
            if (it == pages.end() || at < addr) break;
            size_t take = std::min<uint64_t>(len - done, base + kPage - at);
            std::memcpy(static_cast<uint8_t*>(out) + done, it->second + (at - base), take);
            done += take;
        }
        return done;
    }

private:
    snag::ProcessInfo process_;
    std::vector<snag::Thread> threads_;
    std::vector<snag::Mapping> mappings_;
    std::vector<snag::AuxvEntry> auxv_;
    std::vector<std::string> warnings_;
};

// Forwards to a real target and remembers every page read.
class RecordingTarget : public PagesTarget {
public:
    explicit RecordingTarget(snag::Target& inner) : inner_(inner) {}
    std::set<uint64_t> touched;
    size_t read(uint64_t addr, void* out, size_t len) override {
        size_t got = inner_.read(addr, out, len);
        for (uint64_t p = addr & ~(kPage - 1); p < addr + len && p >= (addr & ~(kPage - 1)); p += kPage)
            touched.insert(p);
        return got;
    }

private:
    snag::Target& inner_;
};

snag::python::ReadOptions read_options() {
    snag::python::ReadOptions options;
    options.locals = true;
    options.max_frames = 256;
    options.max_threads = 64;
    return options;
}

int make_seed(const std::string& core, const std::string& out) {
    auto target = snag::open_target(core, {});
    if (!target) return std::fprintf(stderr, "%s\n", target.error().message.c_str()), 2;
    auto symbols = snag::make_symbolizer(**target);
    if (!symbols) return std::fprintf(stderr, "%s\n", symbols.error().message.c_str()), 2;
    auto runtime = snag::python::find_python_runtime(**target, **symbols);
    if (!runtime) return std::fprintf(stderr, "%s\n", runtime.error().message.c_str()), 2;
    RecordingTarget recording(**target);
    auto state = snag::python::read_python_state(recording, *runtime, read_options());
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.minor = runtime->layout.minor;
    h.runtime = runtime->runtime;
    h.interp_head_at = runtime->interp_head_at;
    h.tstate_current_at = runtime->tstate_current_at;
    h.gil_locked_at = runtime->gil_locked_at;
    h.gil_last_holder_at = runtime->gil_last_holder_at;
    h.gc_collecting_at = runtime->gc_collecting_at;
    std::ofstream file(out, std::ios::binary);
    file.write(reinterpret_cast<const char*>(&h), sizeof h);
    char page[kPage];
    for (uint64_t base : recording.touched) {
        if ((*target)->read(base, page, kPage) != kPage) continue;
        file.write(reinterpret_cast<const char*>(&base), 8);
        file.write(page, kPage);
    }
    std::fprintf(stderr, "seed %s: Python 3.%d, %zu threads, %zu pages\n", out.c_str(), int(h.minor),
                 state.threads.size(), recording.touched.size());
    return file ? 0 : 2;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* spec = std::getenv("SNAG_FUZZ_MAKE_SEED")) {
        std::string s = spec;
        auto colon = s.find(':');
        std::exit(colon == std::string::npos ? 2 : make_seed(s.substr(0, colon), s.substr(colon + 1)));
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Header h;
    if (size < sizeof h) return 0;
    std::memcpy(&h, data, sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) return 0;
    auto layout = snag::python::builtin_layout(static_cast<int>(h.minor));
    if (!layout) return 0;
    PagesTarget target;
    for (size_t at = sizeof h; size - at >= 8 + kPage; at += 8 + kPage) {
        uint64_t base;
        std::memcpy(&base, data + at, 8);
        target.pages[base & ~(kPage - 1)] = data + at + 8;
    }
    snag::python::PythonRuntime runtime;
    runtime.version = "3." + std::to_string(h.minor);
    runtime.runtime = h.runtime;
    runtime.interp_head_at = h.interp_head_at;
    runtime.tstate_current_at = h.tstate_current_at;
    runtime.gil_locked_at = h.gil_locked_at;
    runtime.gil_last_holder_at = h.gil_last_holder_at;
    runtime.gc_collecting_at = h.gc_collecting_at;
    runtime.layout = *layout;
    (void)snag::python::read_python_state(target, runtime, read_options());
    return 0;
}
