// libFuzzer harness: a damaged ELF module (headers, sections, symbol tables, PLT, .eh_frame,
// DWARF) through what snag reads of every module: its facts, the symbolizer (elfutils behind
// snag's own Module), PLT stubs, section names and a stack walk whose pc lies in the module.
//
// Input: the module's file. It is mapped at kBase (file offset 0, as the first mapping of a
// shared object) and its bytes are also the target's memory there. Seeds are the scenarios'
// executables (run_fuzz.py).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "../unit/memory_only_target.hpp"
#include "symbols/elf_facts.hpp"
#include "symbols/elf_sections.hpp"
#include "symbols/plt_symbols.hpp"
#include "symbols/symbolizer.hpp"
#include "unwind/unwinder.hpp"

namespace {

constexpr uint64_t kBase = 0x400000;

// One module mapped from a file, its image readable in memory, one thread inside it.
class ModuleTarget : public snag::test::MemoryOnlyTarget {
public:
    ModuleTarget(std::string path, std::string_view image) : path_(std::move(path)), image_(image) {
        uint64_t end = kBase + ((image.size() + 4095) & ~uint64_t{4095});
        mappings_.push_back({.start = kBase, .end = end, .file_offset = 0, .perms = "r-xp", .path = path_});
        snag::Thread thread;
        thread.tid = 1;
        thread.has_registers = true;
        thread.regs.rip = kBase + image.size() / 2;
        thread.regs.rsp = thread.regs.rbp = kBase + image.size() / 4;
        threads_.push_back(thread);
    }
    const std::vector<snag::Thread>& threads() const override { return threads_; }
    const std::vector<snag::Mapping>& mappings() const override { return mappings_; }
    std::string local_path(const std::string& recorded) const override { return recorded; }
    size_t read(uint64_t addr, void* out, size_t len) override {
        if (addr < kBase || addr - kBase >= image_.size()) return 0;
        size_t n = std::min<uint64_t>(len, image_.size() - (addr - kBase));
        std::memcpy(out, image_.data() + (addr - kBase), n);
        return n;
    }

private:
    std::string path_;
    std::string_view image_;
    std::vector<snag::Mapping> mappings_;
    std::vector<snag::Thread> threads_;
};

void exercise(ModuleTarget& target, size_t size) {
    (void)snag::read_elf_facts(target.mappings()[0].path);
    (void)snag::read_elf_facts(target, kBase);
    auto symbols = snag::make_symbolizer(target, snag::SymbolizerOptions{.source_lines = true});
    if (!symbols) return;
    std::vector<uint64_t> pcs;
    for (uint64_t at = 0; at < size; at += size / 16 + 1) pcs.push_back(kBase + at);
    (*symbols)->prepare(pcs);
    for (uint64_t pc : pcs) {
        (void)(*symbols)->symbolize(pc, true);
        (void)(*symbols)->symbol_at(pc);
    }
    (void)(*symbols)->address_of("main");
    for (const auto& module : (*symbols)->modules()) {
        (void)snag::plt_stubs(module);
        (void)snag::section_named(module, ".text");
        for (uint64_t pc : pcs) (void)snag::section_name_at(module, pc);
    }
    (void)snag::make_unwinder(target, **symbols)->unwind(target.threads()[0], 64);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    int fd = memfd_create("fuzz-module", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
        ModuleTarget target("/proc/self/fd/" + std::to_string(fd),
                            std::string_view(reinterpret_cast<const char*>(data), size));
        exercise(target, size);
    }
    ::close(fd);
    return 0;
}
