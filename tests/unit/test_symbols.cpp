// Symbolizer over the test process itself: modules, build-ids, names, lines, inline frames.
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "self_target.hpp"
#include "symbols/link_map.hpp"
#include "symbols/symbolizer.hpp"

// Targets for the lookups below; external linkage keeps them in .symtab.
int g_symbols_test_table[8];

extern "C" __attribute__((noinline, noclone)) uint64_t symbols_test_capture() {
    uint64_t ra = reinterpret_cast<uint64_t>(__builtin_return_address(0));
    asm volatile("" : "+r"(ra));
    return ra;
}

// Two local aliases of one assembler function without DWARF, the underscored one first (as
// libc's __clone3/clone3/__GI___clone3): libdwfl alone would name it by the first.
asm(".text\n"
    ".type __snag_test_asm_alias, @function\n.type snag_test_asm_alias, @function\n"
    "__snag_test_asm_alias:\nsnag_test_asm_alias:\n nop\n ret\n"
    ".size __snag_test_asm_alias, 2\n.size snag_test_asm_alias, 2\n");

static int g_inline_body_line = 0;
static int g_inline_middle_line = 0;
static int g_inline_call_line = 0;

static inline __attribute__((always_inline)) uint64_t symbols_test_inlined() {
    g_inline_body_line = __LINE__ + 1;
    return symbols_test_capture();
}

// Two levels of inlining: the chain must list both, innermost first.
static inline __attribute__((always_inline)) uint64_t symbols_test_inlined_middle() {
    g_inline_middle_line = __LINE__ + 1;
    uint64_t ra = symbols_test_inlined();
    asm volatile("" : "+r"(ra));
    return ra;
}

extern "C" __attribute__((noinline, noclone)) uint64_t symbols_test_outer() {
    g_inline_call_line = __LINE__ + 1;
    uint64_t ra = symbols_test_inlined_middle();
    asm volatile("" : "+r"(ra));  // keeps the call from becoming a tail call
    return ra;
}

namespace {

// SelfTarget plus the process's auxiliary vector (entry point, vDSO address).
class SelfTargetWithAuxv : public snag::test::SelfTarget {
public:
    SelfTargetWithAuxv() {
        std::ifstream in("/proc/self/auxv", std::ios::binary);
        snag::AuxvEntry e;
        while (in.read(reinterpret_cast<char*>(&e), sizeof e) && e.type != AT_NULL) auxv_.push_back(e);
    }
    const std::vector<snag::AuxvEntry>& auxv() const override { return auxv_; }

private:
    std::vector<snag::AuxvEntry> auxv_;
};

std::unique_ptr<snag::Symbolizer> self_symbolizer(snag::Target& target) {
    auto symbolizer = snag::make_symbolizer(target);
    REQUIRE(symbolizer.has_value());
    return std::move(*symbolizer);
}

const snag::Module* module_named(const snag::Symbolizer& s, std::string_view file) {
    for (const auto& m : s.modules())
        if (m.path.ends_with(file)) return &m;
    return nullptr;
}

std::string readelf_build_id(const std::string& path) {
    std::string cmd = "readelf -n '" + path + "' 2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char line[512];
    std::string id;
    while (fgets(line, sizeof line, pipe)) {
        std::string text(line);
        if (auto at = text.find("Build ID: "); at != std::string::npos) {
            id = text.substr(at + 10);
            while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
        }
    }
    pclose(pipe);
    return id;
}

}  // namespace

TEST_CASE("modules: libc and the test binary with build-ids and debug info") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    const snag::Module* libc = module_named(*s, "/libc.so.6");
    REQUIRE(libc != nullptr);
    CHECK(libc->build_id == readelf_build_id(libc->path));
    CHECK(libc->recorded_build_id == libc->build_id);
    CHECK(libc->file_matches);
    CHECK(libc->bias == libc->start);  // libc's first PT_LOAD is at vaddr 0
    std::string by_id = "/usr/lib/debug/.build-id/" + libc->build_id.substr(0, 2) + "/" +
                        libc->build_id.substr(2) + ".debug";
    if (access(by_id.c_str(), R_OK) == 0) {
        CHECK(libc->debug_source == snag::DebugSource::BuildIdDir);
        CHECK(libc->debug_file == by_id);
    } else {
        CHECK(libc->debug_source != snag::DebugSource::Embedded);
    }

    const snag::Module* self = s->module_at(reinterpret_cast<uint64_t>(&symbols_test_outer));
    REQUIRE(self != nullptr);
    char exe[4096] = {};
    CHECK(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    CHECK(self->path == exe);
    CHECK(self->debug_source == snag::DebugSource::Embedded);
    CHECK(std::string(snag::to_string(self->debug_source)) == "embedded");

    const snag::Module* vdso = module_named(*s, "[vdso]");
    REQUIRE(vdso != nullptr);
    CHECK(vdso->start == getauxval(AT_SYSINFO_EHDR));
    CHECK(vdso->local_path.empty());
    CHECK(!vdso->build_id.empty());

    // Module order is by address, without overlaps.
    for (size_t i = 1; i < s->modules().size(); ++i)
        CHECK(s->modules()[i - 1].end <= s->modules()[i].start);
}

TEST_CASE("modules: a file missing on disk is listed but does not match") {
    struct MissingFiles : SelfTargetWithAuxv {
        std::string local_path(const std::string& p) const override {
            return p.ends_with("/libc.so.6") ? std::string() : p;
        }
    } target;
    auto s = self_symbolizer(target);
    const snag::Module* libc = module_named(*s, "/libc.so.6");
    REQUIRE(libc != nullptr);
    CHECK_FALSE(libc->file_matches);
    CHECK(libc->local_path.empty());
    CHECK(!libc->recorded_build_id.empty());
    CHECK(libc->build_id == libc->recorded_build_id);
    auto frames = s->symbolize(reinterpret_cast<uint64_t>(dlsym(RTLD_DEFAULT, "getpid")), false);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].function.empty());
    CHECK(frames[0].module == libc);
}

TEST_CASE("modules: a deleted file keeps its module, build-id from memory, and symbols by name") {
    const char* copy = "/tmp/snag-test-symbols-libexpat.so";
    std::string cmd = std::string("cp /usr/lib/x86_64-linux-gnu/libexpat.so.1 ") + copy + " 2>/dev/null";
    if (system(cmd.c_str()) != 0) {
        MESSAGE("libexpat not installed; skipped");
        return;
    }
    std::string id = readelf_build_id(copy);
    void* handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    REQUIRE(handle != nullptr);
    unlink(copy);
    {
        SelfTargetWithAuxv target;
        auto s = self_symbolizer(target);
        const snag::Module* deleted = module_named(*s, "libexpat.so (deleted)");
        REQUIRE(deleted != nullptr);
        CHECK_FALSE(deleted->file_matches);
        CHECK(deleted->recorded_build_id == id);
        CHECK(deleted->build_id == id);
        // The image is gone from disk: the address is placed in its module, unnamed.
        auto frames = s->symbolize(reinterpret_cast<uint64_t>(dlsym(handle, "XML_ParserCreate")), false);
        CHECK(frames[0].module == deleted);
        CHECK(frames[0].function.empty());
    }
    dlclose(handle);
}

TEST_CASE("symbolize: function name, offset and source line") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    uint64_t entry = reinterpret_cast<uint64_t>(&symbols_test_outer);
    auto frames = s->symbolize(entry, false);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].function == "symbols_test_outer");
    CHECK(frames[0].offset == 0);
    CHECK_FALSE(frames[0].inlined);
    REQUIRE(frames[0].source.has_value());
    CHECK(frames[0].source->file.ends_with("test_symbols.cpp"));
    CHECK(frames[0].source->line > 0);

    // C++ names come back demangled.
    auto mangled = s->symbolize(reinterpret_cast<uint64_t>(&self_symbolizer) + 1, false);
    CHECK(mangled[0].function.starts_with("(anonymous namespace)::self_symbolizer("));
    CHECK(mangled[0].offset == 1);
}

TEST_CASE("symbolize: always_inline calls produce inlined frames with their call sites") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    uint64_t return_address = symbols_test_outer();
    auto frames = s->symbolize(return_address, true);
    REQUIRE(frames.size() == 3);
    CHECK(frames[0].inlined);
    CHECK(frames[0].function == "symbols_test_inlined");
    REQUIRE(frames[0].source.has_value());
    CHECK(frames[0].source->line == g_inline_body_line);
    CHECK(frames[1].inlined);
    CHECK(frames[1].function == "symbols_test_inlined_middle");
    REQUIRE(frames[1].source.has_value());
    CHECK(frames[1].source->line == g_inline_middle_line);
    CHECK_FALSE(frames[2].inlined);
    CHECK(frames[2].function == "symbols_test_outer");
    REQUIRE(frames[2].source.has_value());
    CHECK(frames[2].source->file.ends_with("test_symbols.cpp"));
    CHECK(frames[2].source->line == g_inline_call_line);
    // Every frame of the chain reports the outer symbol's offset of the return address.
    uint64_t offset = return_address - reinterpret_cast<uint64_t>(&symbols_test_outer);
    for (const auto& frame : frames) CHECK(frame.offset == offset);
}

TEST_CASE("symbolize: of aliases at one address the public spelling is shown") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    auto address = s->address_of("__snag_test_asm_alias");
    REQUIRE(address.has_value());
    CHECK(s->address_of("snag_test_asm_alias") == address);
    auto frames = s->symbolize(*address + 1, false);
    CHECK(frames.back().function == "snag_test_asm_alias");
    CHECK(frames.back().offset == 1);
}

TEST_CASE("address_of: functions and data, with and without a module") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    auto getpid_address = reinterpret_cast<uint64_t>(dlsym(RTLD_DEFAULT, "getpid"));
    CHECK(s->address_of("getpid") == getpid_address);
    CHECK(s->address_of("libc.so.6!getpid") == getpid_address);
    CHECK(s->address_of("libc!getpid") == getpid_address);
    CHECK_FALSE(s->address_of("libm!getpid").has_value());
    // Under ASan the sanitizer runtime interposes malloc: the link-map order must find it first.
    CHECK(s->address_of("malloc") == reinterpret_cast<uint64_t>(dlsym(RTLD_DEFAULT, "malloc")));
    CHECK(s->address_of("g_symbols_test_table") == reinterpret_cast<uint64_t>(&g_symbols_test_table));
    CHECK(s->address_of("symbols_test_outer") == reinterpret_cast<uint64_t>(&symbols_test_outer));
    CHECK_FALSE(s->address_of("no_such_symbol_anywhere_42").has_value());
    auto all = s->addresses_of("getpid");
    CHECK(std::find(all.begin(), all.end(), getpid_address) != all.end());
}

TEST_CASE("link map: the executable first, then libraries in ld.so's order") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    auto biases = snag::link_map_biases(target);
    REQUIRE(biases.size() >= 3);
    const snag::Module* self = s->module_at(reinterpret_cast<uint64_t>(&symbols_test_outer));
    REQUIRE(self != nullptr);
    CHECK(biases[0] == self->bias);
    const snag::Module* libc = module_named(*s, "/libc.so.6");
    REQUIRE(libc != nullptr);
    CHECK(std::find(biases.begin(), biases.end(), libc->bias) != biases.end());
    // Without an auxiliary vector there is no way to the executable's DT_DEBUG.
    snag::test::SelfTarget bare;
    CHECK(snag::link_map_biases(bare).empty());
}

TEST_CASE("symbol_at: data symbols with the offset inside them") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    auto at = s->symbol_at(reinterpret_cast<uint64_t>(&g_symbols_test_table[2]));
    REQUIRE(at.has_value());
    CHECK(at->first == "g_symbols_test_table");
    CHECK(at->second == 2 * sizeof(int));
    auto code = s->symbol_at(reinterpret_cast<uint64_t>(&symbols_test_outer) + 3);
    REQUIRE(code.has_value());
    CHECK(code->first == "symbols_test_outer");
    CHECK(code->second == 3);
}

TEST_CASE("vDSO: symbols come from the image in memory") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    auto address = s->address_of("[vdso]!__vdso_clock_gettime");
    REQUIRE(address.has_value());
    const snag::Module* vdso = s->module_at(*address);
    REQUIRE(vdso != nullptr);
    CHECK(vdso->path == "[vdso]");
    auto frames = s->symbolize(*address + 4, false);
    CHECK(frames.back().function.find("clock_gettime") != std::string::npos);
}

TEST_CASE("symbolize: repeated lookups are served from the memo") {
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    uint64_t return_address = symbols_test_outer();
    auto first = s->symbolize(return_address, true);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 200 * 27; ++i) s->symbolize(return_address, true);
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(s->symbolize(return_address, true).size() == first.size());
    CHECK(elapsed < std::chrono::milliseconds(200));
}

TEST_CASE("modules: a debug file with another build-id is refused with a warning naming both ids") {
    char dir_template[] = "/tmp/snag-test-debugdir-XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    std::string dir = dir_template;
    std::string libc_id;
    {
        SelfTargetWithAuxv target;
        auto s = self_symbolizer(target);
        const snag::Module* libc = module_named(*s, "/libc.so.6");
        REQUIRE(libc != nullptr);
        libc_id = libc->build_id;
    }
    REQUIRE(libc_id.size() > 2);
    std::string sub = dir + "/.build-id/" + libc_id.substr(0, 2);
    std::string stale = sub + "/" + libc_id.substr(2) + ".debug";
    char exe[4096] = {};
    REQUIRE(readlink("/proc/self/exe", exe, sizeof exe - 1) > 0);
    REQUIRE(std::system(("mkdir -p '" + sub + "' && cp '" + std::string(exe) + "' '" + stale + "'").c_str()) == 0);
    std::string other_id = readelf_build_id(exe);
    REQUIRE(!other_id.empty());

    setenv("SNAG_DEBUG_FILE_DIRECTORY", dir.c_str(), 1);
    SelfTargetWithAuxv target;
    auto s = self_symbolizer(target);
    unsetenv("SNAG_DEBUG_FILE_DIRECTORY");
    std::system(("rm -rf '" + dir + "'").c_str());
    const snag::Module* libc = module_named(*s, "/libc.so.6");
    REQUIRE(libc != nullptr);
    CHECK(libc->debug_file != stale);
    CHECK(libc->debug_source != snag::DebugSource::BuildIdDir);
    CHECK(libc->debug_warning.find(libc_id) != std::string::npos);
    CHECK_MESSAGE(libc->debug_warning.find(other_id) != std::string::npos, libc->debug_warning);
    CHECK(libc->debug_warning.find(stale) != std::string::npos);
    // The test binary's own DWARF is embedded: nothing to refuse there.
    CHECK(s->module_at(reinterpret_cast<uint64_t>(&symbols_test_outer))->debug_warning.empty());
}
