// Tail-call frames, as gdb shows them. A function that ends in `jmp other` leaves no return
// address, so CFI unwinding goes from `other` straight to the function's caller (glibc's
// sem_wait → __new_sem_wait_slow64 → do_futex_wait → __futex_abstimed_wait_cancelable64 are
// such jumps). DWARF's call sites (DW_TAG_call_site, DW_AT_call_tail_call) name the targets of
// the caller's call and of every tail jump; when they lead from the caller's call site to the
// callee by one chain (or chains that agree at their ends), the functions in between are frames.
// The rules are gdb's (dwarf2/loc.c call_site_find_chain): targets must resolve without a frame
// (a DW_AT_call_target expression does not), every target must be a function entry with DWARF,
// ambiguous chains keep only their common caller and callee ends.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace snag {

class TailCalls {
public:
    // Resolves a declaration's (linkage) name to an address in any module, as gdb's minimal symbols.
    using AddressOf = std::function<std::optional<uint64_t>(std::string_view)>;
    // Start of the ELF symbol holding pc, for code without DWARF.
    using SymbolStart = std::function<std::optional<uint64_t>(uint64_t)>;
    TailCalls(Dwfl* dwfl, AddressOf address_of, SymbolStart symbol_start);
    ~TailCalls();

    // Return addresses (just past each tail jump) of the frames between a caller whose call
    // returns to caller_return_pc and the callee frame at callee_pc (its lookup pc), innermost
    // first. Empty when there are none or they cannot be told.
    std::vector<uint64_t> between(uint64_t caller_return_pc, uint64_t callee_pc);

    // The entry of the function holding pc, from DWARF (gdb's get_pc_function_start).
    std::optional<uint64_t> function_entry(uint64_t pc);

    struct Site {
        uint64_t return_pc = 0;  // runtime
        bool tail = false;
        Dwarf_Die die{};
        uint64_t owner_entry = 0;  // entry of the enclosing DW_TAG_subprogram, runtime
        uint64_t bias = 0;         // of the module whose DWARF holds the site
    };
    // The DW_TAG_call_site whose call returns to return_pc (just past a tail jump for those).
    const Site* site_at(uint64_t return_pc);
    // Where a call site jumps, without a frame; nullopt for computed targets (DW_AT_call_target).
    std::optional<uint64_t> target_of(const Site& site);
    // gdb's func_verify_no_selftailcall: true when the function entered at entry may reach itself
    // through tail calls, or that cannot be ruled out; its entry values are then not trusted.
    bool may_call_itself(uint64_t entry);

private:
    struct Function {
        uint64_t low = 0, high = 0, entry = 0;  // runtime
    };
    struct Unit;
    struct Search;

    Unit* unit_at(uint64_t address);
    bool explore(Search& search, const Site& site);

    Dwfl* dwfl_;
    AddressOf address_of_;
    SymbolStart symbol_start_;
    std::unordered_map<const void*, std::unique_ptr<Unit>> units_;  // by CU DIE address
    std::map<std::pair<uint64_t, uint64_t>, std::vector<uint64_t>> memo_;
    std::unordered_map<uint64_t, bool> calls_itself_;  // by function entry
};

}  // namespace snag
