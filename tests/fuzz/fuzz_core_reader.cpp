// libFuzzer harness: an ELF core (header, program headers, notes, a little memory) through the
// core reader and what snag reads first from any target: mappings, memory, modules, the vDSO image.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "symbols/elf_facts.hpp"
#include "symbols/module_collection.hpp"
#include "target/core_target.hpp"

namespace {

void exercise(snag::Target& target) {
    char buf[256];
    for (const auto& m : target.mappings()) {
        target.read(m.start, buf, sizeof buf);
        target.read(m.end - 8, buf, sizeof buf);  // across the end of the mapping
        (void)snag::read_elf_facts(target, m.start);
    }
    for (const auto& thread : target.threads()) target.read(thread.regs.rsp, buf, sizeof buf);
    for (const auto& module : snag::collect_modules(target))
        if (module.path == snag::kVdsoPath) (void)snag::read_module_image(target, module);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int fd = memfd_create("fuzz-core", MFD_CLOEXEC);
    if (fd < 0 || ::write(fd, data, size) != static_cast<ssize_t>(size)) {
        if (fd >= 0) ::close(fd);
        return 0;
    }
    auto map = snag::FileMap::adopt(fd, "fuzz.core");
    if (!map) return 0;
    snag::TargetOptions options;
    options.allow_truncated = true;  // the cut-core path is the one that reads past the file
    auto target = snag::load_core("fuzz.core", std::move(*map), options, {});
    if (target) exercise(**target);
    return 0;
}
