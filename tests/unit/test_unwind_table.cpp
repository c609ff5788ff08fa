// Unwind tables of damaged module files: program-header sizes and offsets whose sums wrap around
// 2^64 are refused, never turned into reads past the mapped file (found by fuzz_module_reader).
#include <elf.h>

#include <cstring>
#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "test_core_builder.hpp"
#include "unwind/unwind_table.hpp"

namespace {

constexpr uint64_t kHuge = ~uint64_t{0};

// A 4 KiB module file: ELF header, the given program headers, then bytes 0x11 to the end.
std::string module_file(const std::vector<Elf64_Phdr>& phdrs, uint64_t phoff = sizeof(Elf64_Ehdr)) {
    Elf64_Ehdr eh = snag::test::elf64_header(ET_DYN, EM_X86_64, phdrs.size());
    eh.e_phoff = phoff;
    std::string out(4096, '\x11');
    std::memcpy(out.data(), &eh, sizeof eh);
    std::memcpy(out.data() + sizeof eh, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr));
    return out;
}

Elf64_Phdr load(uint64_t offset, uint64_t vaddr, uint64_t filesz) {
    return Elf64_Phdr{.p_type = PT_LOAD, .p_flags = PF_R, .p_offset = offset, .p_vaddr = vaddr,
                      .p_paddr = vaddr, .p_filesz = filesz, .p_memsz = filesz, .p_align = 4096};
}

}  // namespace

TEST_CASE("unwind table of a module whose segment size wraps past 2^64 reads nothing outside the file") {
    snag::test::TempDir dir;
    // p_offset + p_filesz wraps to 0x7ff: once taken for a segment inside the 4 KiB file.
    auto path = dir.file("wrapped", module_file({load(0, 0, 4096), load(0x800, 0x10000, kHuge)}));
    auto table = snag::load_unwind_table_from_file(path, 0, 0, 0x20000);
    REQUIRE(table);
    uint64_t word = 0;
    CHECK(table->read_word(0x1000 - 8, &word));
    CHECK(word == 0x1111111111111111);
    CHECK_FALSE(table->read_word(0x1000, &word));
    CHECK_FALSE(table->read_word(0x10000, &word));
    CHECK_FALSE(table->read_word(0x10000 + (uint64_t{1} << 40), &word));
}

TEST_CASE("unwind table refuses program headers placed where their offset wraps past 2^64") {
    snag::test::TempDir dir;
    auto path = dir.file("phoff", module_file({load(0, 0, 4096)}, kHuge - 8));
    CHECK(snag::load_unwind_table_from_file(path, 0, 0, 0x1000) == nullptr);
}
