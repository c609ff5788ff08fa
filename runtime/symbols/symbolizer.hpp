// Symbolizer: addresses to functions and source lines, names to addresses (elfutils stays behind it).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "symbols/module.hpp"
#include "symbols/types.hpp"
#include "target/target.hpp"

struct Dwarf;

namespace snag {

class TailCalls;

struct SourceLocation {
    std::string file;
    int line = 0;
};

// One logical frame at an address; inlined calls produce several for one pc.
struct Symbol {
    std::string function;  // demangled; empty when unknown
    uint64_t offset = 0;   // pc - start of function (outermost symbol for inlined frames)
    const Module* module = nullptr;
    std::optional<SourceLocation> source;
    bool inlined = false;  // true for every frame but the outermost of an inline chain
};

// Not thread-safe: caches fill on every lookup.
class Symbolizer {
public:
    virtual ~Symbolizer() = default;

    virtual const std::vector<Module>& modules() const = 0;
    virtual const Module* module_at(uint64_t address) const = 0;

    // Innermost first; at least one entry (function may be empty). For return addresses pass
    // is_call_site=true so lookups use pc-1 and land inside the call instruction.
    virtual std::vector<Symbol> symbolize(uint64_t pc, bool is_call_site) = 0;
    // Loads the debug info of the modules holding these addresses all at once (in parallel),
    // before symbolizing many of them; symbolize() alone loads one module at a time.
    virtual void prepare(const std::vector<uint64_t>& addresses) { (void)addresses; }
    // Only the first half of prepare(): the debug files inflated together, no line tables read.
    virtual void load_debug_files(const std::vector<uint64_t>& addresses) { (void)addresses; }

    // One frame unwound with the .debug_frame CFI of the module holding lookup_pc (pc - 1 for
    // a return address), for code .eh_frame does not describe: the caller's rip, rsp and
    // callee-saved registers (rip 0: outermost). nullopt when .debug_frame has no entry there.
    virtual std::optional<Registers> debug_frame_caller(uint64_t lookup_pc, const Registers& regs,
                                                        const std::function<bool(uint64_t, uint64_t*)>& read) {
        (void)lookup_pc, (void)regs, (void)read;
        return std::nullopt;
    }

    // gdb's tail-call frames between a caller (its return address) and the frame it called
    // (callee_pc: that frame's lookup pc): return addresses past each tail jump, innermost
    // first, from DWARF call sites (symbols/tail_calls.hpp). Empty when none can be told.
    virtual std::vector<uint64_t> tail_call_frames(uint64_t caller_return_pc, uint64_t callee_pc) {
        (void)caller_return_pc, (void)callee_pc;
        return {};
    }

    // The DWARF call sites of every module (symbols/tail_calls.hpp), for entry values of frame
    // arguments; nullptr when none can be read.
    virtual TailCalls* call_sites() { return nullptr; }

    // Address of a function or data symbol; "module!name" restricts the search.
    virtual std::optional<uint64_t> address_of(std::string_view name) = 0;
    // Every address a name resolves to (aliases in several modules), for breakpoints.
    virtual std::vector<uint64_t> addresses_of(std::string_view name) = 0;

    // Name of the ELF symbol containing address (data or function) and address's offset in it,
    // for `<symbol+off>` output; nullopt outside every sized symbol.
    virtual std::optional<std::pair<std::string, uint64_t>> symbol_at(uint64_t address) = 0;
    // The ELF symbol containing address, with its start and size (0 when the symbol is unsized),
    // for `disassemble`'s function bounds.
    struct Extent {
        std::string name;
        uint64_t start = 0;
        uint64_t size = 0;
    };
    virtual std::optional<Extent> symbol_extent(uint64_t address) {
        auto at = symbol_at(address);
        if (!at) return std::nullopt;
        return Extent{at->first, address - at->second, 0};
    }

    // The DWARF of the module holding address, as this symbolizer loaded it (debug file found,
    // compressed sections inflated once): frame locals and arguments read it too. Owned by the
    // symbolizer; nullptr when the module has none.
    virtual Dwarf* dwarf_at(uint64_t address) {
        (void)address;
        return nullptr;
    }

    // DWARF type by C spelling ("struct _ts", "PyThreadState", "long", "char *", "libpython!_ts"),
    // searched in every module with DWARF; nullptr when none defines it. See symbols/types.hpp.
    // The TypeInfo graph is owned by the Symbolizer and lives as long as it.
    virtual const TypeInfo* find_type(std::string_view name) {
        (void)name;
        return nullptr;
    }
    // Byte offset of a member ("interp", or "a.b" through nested members) in a named type.
    std::optional<uint64_t> member_offset(std::string_view type, std::string_view member_path);
};

// Breakpoint addresses of FILE:LINE in the modules' DWARF (FILE matched as a path suffix, like
// gdb): the is_stmt rows of LINE (or of the next line with code), lowest address per function or
// inline instance, past the prologue when LINE opens a function. Empty when no module has it.
std::vector<uint64_t> line_addresses(const std::vector<Module>& modules, std::string_view file, int line);

struct SymbolizerOptions {
    // The caller will ask for file:line (native stacks): a debug file opened for its symbol table
    // is inflated whole at once (libdeflate, parallel) so its DWARF is ready. Off, a symbol-only
    // caller (py-bt) skips inflating DWARF it never reads; DWARF read later costs libdw's zlib.
    bool source_lines = true;
    // The caller reads locals or arguments through dwarf_at(): keep the location lists that a
    // stack of names and lines does without.
    bool location_lists = false;
};

// Collects modules from the target's mappings and loads their symbols lazily.
Expected<std::unique_ptr<Symbolizer>> make_symbolizer(Target& target, const SymbolizerOptions& options = {});

}  // namespace snag
