#include "symbols/link_map.hpp"

#include <elf.h>
#include <link.h>

#include <cstddef>
#include <optional>

namespace snag {

namespace {

std::optional<uint64_t> auxv_value(Target& target, uint64_t type) {
    for (const auto& entry : target.auxv())
        if (entry.type == type) return entry.value;
    return std::nullopt;
}

// The executable's DT_DEBUG entry, which ld.so points at its struct r_debug.
std::optional<uint64_t> r_debug_address(Target& target) {
    auto phdr_at = auxv_value(target, AT_PHDR);
    auto phnum = auxv_value(target, AT_PHNUM);
    if (!phdr_at || !phnum || *phnum == 0 || *phnum > 256) return std::nullopt;
    std::vector<Elf64_Phdr> phdrs(*phnum);
    if (!target.read_exact(*phdr_at, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr))) return std::nullopt;
    std::optional<uint64_t> bias;
    for (const auto& ph : phdrs)
        if (ph.p_type == PT_PHDR) bias = *phdr_at - ph.p_vaddr;
    if (!bias) return std::nullopt;
    for (const auto& ph : phdrs) {
        if (ph.p_type != PT_DYNAMIC) continue;
        for (uint64_t at = *bias + ph.p_vaddr, end = at + ph.p_memsz; at + sizeof(Elf64_Dyn) <= end;
             at += sizeof(Elf64_Dyn)) {
            auto dyn = target.read_value<Elf64_Dyn>(at);
            if (!dyn || dyn->d_tag == DT_NULL) break;
            if (dyn->d_tag == DT_DEBUG && dyn->d_un.d_ptr) return dyn->d_un.d_ptr;
        }
    }
    return std::nullopt;
}

}  // namespace

std::vector<uint64_t> link_map_biases(Target& target) {
    std::vector<uint64_t> biases;
    auto r_debug_at = r_debug_address(target);
    if (!r_debug_at) return biases;
    auto entry = target.read_u64(*r_debug_at + offsetof(struct r_debug, r_map));
    // Bounded: a corrupt list in a core must not loop forever.
    for (int i = 0; entry && *entry && i < 4096; ++i) {
        auto l_addr = target.read_u64(*entry + offsetof(struct link_map, l_addr));
        if (!l_addr) break;
        biases.push_back(*l_addr);
        entry = target.read_u64(*entry + offsetof(struct link_map, l_next));
    }
    return biases;
}

std::optional<LinkMapRendezvous> link_map_rendezvous(Target& target) {
    auto r_debug_at = r_debug_address(target);
    if (!r_debug_at) return std::nullopt;
    auto r_brk = target.read_u64(*r_debug_at + offsetof(struct r_debug, r_brk));
    auto r_state = target.read_value<int>(*r_debug_at + offsetof(struct r_debug, r_state));
    if (!r_brk || !*r_brk || !r_state) return std::nullopt;
    return LinkMapRendezvous{*r_brk, *r_state == r_debug::RT_CONSISTENT};
}

}  // namespace snag
