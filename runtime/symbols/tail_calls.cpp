#include "symbols/tail_calls.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <unordered_set>

namespace snag {

// The call sites and function ranges of one compilation unit, read in one walk of its DIEs.
struct TailCalls::Unit {
    std::vector<Site> sites;  // sorted by return_pc
    std::vector<Function> functions;
    std::unordered_map<uint64_t, std::vector<size_t>> tail_sites;  // by owner entry

    const Function* function_at(uint64_t pc) const {
        for (const Function& f : functions)
            if (pc >= f.low && pc < f.high) return &f;
        return nullptr;
    }
};

// One search from a caller's call site; gdb's chain_candidate keeps the ends all chains share.
struct TailCalls::Search {
    uint64_t callee = 0;
    std::vector<const Site*> chain;
    std::unordered_set<uint64_t> visited;  // sites on the chain, so recursion ends
    bool found = false;
    std::vector<const Site*> result;
    size_t callers = 0, callees = 0;

    bool candidate() {
        if (!found) {
            found = true;
            result = chain;
            callers = callees = chain.size();
            return true;
        }
        size_t n = chain.size(), len = result.size();
        for (size_t i = 0; i < std::min(callers, n); ++i)
            if (result[i] != chain[i]) {
                callers = i;
                break;
            }
        for (size_t i = 0; i < std::min(callees, n); ++i)
            if (result[len - 1 - i] != chain[n - 1 - i]) {
                callees = i;
                break;
            }
        return callers > 0 || callees > 0;  // nothing in common: gdb gives up
    }
};

namespace {

constexpr size_t kMaxChain = 64;

// gdb's entry pc of a block: DW_AT_low_pc, else the start of the first range.
std::optional<Dwarf_Addr> entry_of(Dwarf_Die* die) {
    Dwarf_Addr low = 0;
    if (dwarf_hasattr(die, DW_AT_low_pc) && dwarf_lowpc(die, &low) == 0) return low;
    Dwarf_Addr base = 0, start = 0, end = 0;
    if (dwarf_ranges(die, 0, &base, &start, &end) > 0) return start;
    return std::nullopt;
}

// gdb's address of a call target DIE: its lowest pc.
std::optional<Dwarf_Addr> lowest_pc_of(Dwarf_Die* die) {
    Dwarf_Addr base = 0, start = 0, end = 0, lowest = ~Dwarf_Addr{0};
    ptrdiff_t offset = 0;
    while ((offset = dwarf_ranges(die, offset, &base, &start, &end)) > 0) lowest = std::min(lowest, start);
    if (lowest == ~Dwarf_Addr{0}) return std::nullopt;
    return lowest;
}

bool flag(Dwarf_Die* die, int name) {
    Dwarf_Attribute attr;
    bool value = false;
    return dwarf_attr(die, name, &attr) && dwarf_formflag(&attr, &value) == 0 && value;
}

// gdb's die_is_declaration, whose attribute reads follow DW_AT_abstract_origin/specification
// (an LTO unit's call origin is a DIE that only points at another unit's declaration).
bool is_declaration(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    bool value = false;
    return dwarf_attr_integrate(die, DW_AT_declaration, &attr) && dwarf_formflag(&attr, &value) == 0 && value &&
           !dwarf_attr_integrate(die, DW_AT_specification, &attr);
}

std::optional<Dwarf_Addr> return_pc_of(Dwarf_Die* site) {
    Dwarf_Attribute attr;
    Dwarf_Addr pc = 0;
    if ((dwarf_attr(site, DW_AT_call_return_pc, &attr) || dwarf_attr(site, DW_AT_low_pc, &attr)) &&
        dwarf_formaddr(&attr, &pc) == 0)
        return pc;
    return std::nullopt;
}

// Only these hold code, so only these can hold call sites (types are skipped whole).
bool may_hold_code(int tag) {
    switch (tag) {
        case DW_TAG_compile_unit: case DW_TAG_namespace: case DW_TAG_subprogram: case DW_TAG_lexical_block:
        case DW_TAG_inlined_subroutine: case DW_TAG_try_block: case DW_TAG_catch_block: case DW_TAG_module:
            return true;
        default:
            return false;
    }
}

struct UnitWalk {
    Dwarf_Addr bias = 0;
    std::vector<std::pair<Dwarf_Addr, Dwarf_Die>> sites;  // what the unit's index is built from
    std::vector<bool> tails;
    std::vector<uint64_t> owners;
    std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> functions;

    void walk(Dwarf_Die* parent, uint64_t owner, int depth) {
        Dwarf_Die child;
        if (depth > 64 || dwarf_child(parent, &child) != 0) return;
        do {
            int tag = dwarf_tag(&child);
            if (tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site) {
                if (auto pc = return_pc_of(&child)) {
                    sites.emplace_back(*pc + bias, child);
                    tails.push_back(flag(&child, DW_AT_call_tail_call) || flag(&child, DW_AT_GNU_tail_call));
                    owners.push_back(owner);
                }
                continue;
            }
            if (!may_hold_code(tag)) continue;
            uint64_t inner = owner;
            if (tag == DW_TAG_subprogram) {
                auto entry = entry_of(&child);
                if (!entry) continue;  // a declaration or an abstract instance: no code here
                inner = *entry + bias;
                Dwarf_Addr base = 0, start = 0, end = 0;
                ptrdiff_t offset = 0;
                while ((offset = dwarf_ranges(&child, offset, &base, &start, &end)) > 0)
                    functions.emplace_back(start + bias, end + bias, inner);
            }
            walk(&child, inner, depth + 1);
        } while (dwarf_siblingof(&child, &child) == 0);
    }
};

}  // namespace

TailCalls::TailCalls(Dwfl* dwfl, AddressOf address_of, SymbolStart symbol_start)
    : dwfl_(dwfl), address_of_(std::move(address_of)), symbol_start_(std::move(symbol_start)) {}

TailCalls::~TailCalls() = default;

TailCalls::Unit* TailCalls::unit_at(uint64_t address) {
    Dwfl_Module* module = dwfl_ ? dwfl_addrmodule(dwfl_, address) : nullptr;
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = module ? dwfl_module_addrdie(module, address, &bias) : nullptr;
    if (!cu) return nullptr;
    auto& unit = units_[cu->addr];
    if (unit) return unit.get();
    UnitWalk walk;
    walk.bias = bias;
    walk.walk(cu, 0, 0);
    unit = std::make_unique<Unit>();
    std::vector<size_t> order(walk.sites.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return walk.sites[a].first < walk.sites[b].first; });
    for (size_t i : order) {
        unit->sites.push_back(Site{walk.sites[i].first, walk.tails[i], walk.sites[i].second, walk.owners[i], bias});
        if (walk.tails[i]) unit->tail_sites[walk.owners[i]].push_back(unit->sites.size() - 1);
    }
    for (auto [low, high, entry] : walk.functions) unit->functions.push_back(Function{low, high, entry});
    return unit.get();
}

const TailCalls::Site* TailCalls::site_at(uint64_t return_pc) {
    Unit* unit = unit_at(return_pc - 1);
    if (!unit) return nullptr;
    auto it = std::lower_bound(unit->sites.begin(), unit->sites.end(), return_pc,
                               [](const Site& s, uint64_t pc) { return s.return_pc < pc; });
    return it != unit->sites.end() && it->return_pc == return_pc ? &*it : nullptr;
}

std::optional<uint64_t> TailCalls::function_entry(uint64_t pc) {
    if (Unit* unit = unit_at(pc))
        if (const Function* f = unit->function_at(pc)) return f->entry;
    return symbol_start_ ? symbol_start_(pc) : std::nullopt;
}

// Where a call site jumps, without a frame: DW_AT_call_origin's entry, or its name's address
// when it only declares the function (another unit or module). nullopt for computed targets.
std::optional<uint64_t> TailCalls::target_of(const Site& site) {
    Dwarf_Die die = site.die;
    Dwarf_Attribute attr;
    Dwarf_Die origin;
    if (!(dwarf_attr(&die, DW_AT_call_origin, &attr) || dwarf_attr(&die, DW_AT_abstract_origin, &attr)) ||
        !dwarf_formref_die(&attr, &origin))
        return std::nullopt;
    if (is_declaration(&origin)) {
        const char* name = nullptr;
        for (int name_attr : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
            if (!name && dwarf_attr_integrate(&origin, name_attr, &attr)) name = dwarf_formstring(&attr);
        if (!name) name = dwarf_diename(&origin);
        return name ? address_of_(name) : std::nullopt;
    }
    auto low = lowest_pc_of(&origin);
    if (!low) return std::nullopt;
    return *low + site.bias;
}

bool TailCalls::may_call_itself(uint64_t entry) {
    if (auto it = calls_itself_.find(entry); it != calls_itself_.end()) return it->second;
    bool reaches = false;
    std::vector<uint64_t> todo{entry};
    std::unordered_set<uint64_t> seen;
    while (!todo.empty() && !reaches) {
        uint64_t at = todo.back();
        todo.pop_back();
        Unit* unit = unit_at(at);
        const Function* function = unit ? unit->function_at(at) : nullptr;
        // gdb needs every function on the way to be a DWARF function entered at that address.
        if (!function || function->entry != at) {
            reaches = true;
            break;
        }
        auto tails = unit->tail_sites.find(at);
        if (tails == unit->tail_sites.end()) continue;
        for (size_t i : tails->second) {
            auto target = target_of(unit->sites[i]);
            if (!target || *target == entry || seen.size() > 4096) {
                reaches = true;
                break;
            }
            if (seen.insert(*target).second) todo.push_back(*target);
        }
    }
    calls_itself_.emplace(entry, reaches);
    return reaches;
}

// Depth-first over the tail calls of each target; false when gdb would give up on the chain.
bool TailCalls::explore(Search& search, const Site& site) {
    auto target = target_of(site);
    if (!target) return false;
    if (*target == search.callee) return search.candidate();
    Unit* unit = unit_at(*target);
    const Function* function = unit ? unit->function_at(*target) : nullptr;
    if (!function || function->entry != *target) return false;
    auto tails = unit->tail_sites.find(*target);
    if (tails == unit->tail_sites.end()) return true;
    for (size_t i : tails->second) {
        const Site& next = unit->sites[i];
        if (search.chain.size() >= kMaxChain || !search.visited.insert(next.return_pc).second) continue;
        search.chain.push_back(&next);
        bool ok = explore(search, next);
        search.chain.pop_back();
        search.visited.erase(next.return_pc);
        if (!ok) return false;
    }
    return true;
}

std::vector<uint64_t> TailCalls::between(uint64_t caller_return_pc, uint64_t callee_pc) {
    auto key = std::pair{caller_return_pc, callee_pc};
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    std::vector<uint64_t> frames;
    const Site* site = site_at(caller_return_pc);
    auto callee = site ? function_entry(callee_pc) : std::nullopt;
    Search search;
    if (callee) search.callee = *callee;
    if (callee && explore(search, *site) && search.found) {
        size_t len = search.result.size();
        for (size_t i = 0; i < search.callees; ++i) frames.push_back(search.result[len - 1 - i]->return_pc);
        if (search.callees != len)
            for (size_t i = 0; i < search.callers; ++i) frames.push_back(search.result[search.callers - 1 - i]->return_pc);
    }
    memo_.emplace(key, frames);
    return frames;
}

}  // namespace snag
