#include "symbols/dwarf_frames.hpp"

#include "symbols/scopes.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>

#include <algorithm>
#include <optional>

namespace snag {

namespace {

std::optional<SourceLocation> line_at(Dwfl_Module* module, uint64_t address) {
    Dwfl_Line* line = dwfl_module_getsrc(module, address);
    if (!line) return std::nullopt;
    int lineno = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
    if (!file) return std::nullopt;
    return SourceLocation{file, lineno};
}

// The DIE that carries a function's name: inline and out-of-line instances point to it.
Dwarf_Die declaration_of(Dwarf_Die* die) {
    Dwarf_Die current = *die;
    for (int depth = 0; depth < 8; ++depth) {
        Dwarf_Attribute attr;
        Dwarf_Die next;
        if (!(dwarf_attr(&current, DW_AT_abstract_origin, &attr) || dwarf_attr(&current, DW_AT_specification, &attr)) ||
            !dwarf_formref_die(&attr, &next))
            break;
        current = next;
    }
    return current;
}

// "ns::Class::" for C++ names that DWARF spells without a linkage name (static functions).
std::string scope_prefix(Dwarf_Die* declaration) {
    Dwarf_Die* parents = nullptr;
    int count = dwarf_getscopes_die(declaration, &parents);
    std::string prefix;
    for (int i = count - 1; i >= 1; --i) {
        int tag = dwarf_tag(&parents[i]);
        if (tag != DW_TAG_namespace && tag != DW_TAG_class_type && tag != DW_TAG_structure_type &&
            tag != DW_TAG_union_type)
            continue;
        const char* name = dwarf_diename(&parents[i]);
        prefix += std::string(name ? name : "(anonymous namespace)") + "::";
    }
    free(parents);
    return prefix;
}

// Qualified (demangled linkage) name when DWARF has one, else the scoped DW_AT_name.
std::string scope_name(Dwarf_Die* scope) {
    Dwarf_Attribute attr;
    for (int name_attr : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
        if (dwarf_attr_integrate(scope, name_attr, &attr))
            if (const char* linkage = dwarf_formstring(&attr)) return demangle(linkage);
    Dwarf_Die declaration = declaration_of(scope);
    const char* name = dwarf_diename(&declaration);
    if (!name) return {};
    Dwarf_Die cu;
    bool cplusplus = dwarf_diecu(&declaration, &cu, nullptr, nullptr) &&
                     (dwarf_srclang(&cu) == DW_LANG_C_plus_plus || dwarf_srclang(&cu) >= DW_LANG_C_plus_plus_03);
    return cplusplus ? scope_prefix(&declaration) + name : name;
}

// Where an inlined body was called from: DW_AT_call_file/call_line of its DIE.
std::optional<SourceLocation> call_site_of(Dwarf_Die* inlined, const KnownLines& known) {
    Dwarf_Attribute attr;
    Dwarf_Word file_index = 0, line = 0;
    if (!dwarf_attr(inlined, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &file_index) != 0)
        return std::nullopt;
    if (dwarf_attr(inlined, DW_AT_call_line, &attr)) dwarf_formudata(&attr, &line);
    Dwarf_Die cu;
    if (!dwarf_diecu(inlined, &cu, nullptr, nullptr)) return std::nullopt;
    if (auto it = known.files.find(cu.addr); it != known.files.end()) {
        if (file_index >= it->second.size()) return std::nullopt;
        return SourceLocation{it->second[file_index].path(), static_cast<int>(line)};
    }
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    if (dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 || file_index >= nfiles) return std::nullopt;
    const char* name = dwarf_filesrc(files, file_index, nullptr, nullptr);
    if (!name) return std::nullopt;
    return SourceLocation{name, static_cast<int>(line)};
}

}  // namespace

std::vector<Dwarf_Die> concrete_scopes(Dwarf_Die* cudie, Dwarf_Addr pc) {
    if (auto mine = scopes_at(cudie, pc)) return *mine;
    std::vector<Dwarf_Die> out;
    Dwarf_Die* scopes = nullptr;
    if (dwarf_getscopes(cudie, pc, &scopes) > 0) {
        // dwarf_getscopes continues into the abstract origin after the innermost inline;
        // the concrete chain of callers is the DIE parent chain of the innermost scope.
        Dwarf_Die innermost = scopes[0];
        free(scopes);
        scopes = nullptr;
        int count = dwarf_getscopes_die(&innermost, &scopes);
        out.assign(scopes, scopes + std::max(count, 0));
    }
    free(scopes);
    return out;
}

std::vector<Symbol> frames_at(Dwfl_Module* module, uint64_t address, uint64_t pc, Symbol outer,
                              bool elf_name_mangled, const KnownLines& known) {
    auto known_line = known.at.find(address);
    std::optional<SourceLocation> location = known_line != known.at.end() ? known_line->second : line_at(module, address);
    Dwarf_Addr bias = 0;
    Dwarf_Die* cudie = dwfl_module_addrdie(module, address, &bias);
    std::vector<Symbol> frames;
    std::vector<Dwarf_Die> scopes = cudie ? concrete_scopes(cudie, address - bias) : std::vector<Dwarf_Die>{};
    int count = static_cast<int>(scopes.size());
    for (int i = 0; i < count; ++i) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine) {
            Symbol inlined = outer;
            inlined.function = scope_name(&scopes[i]);
            inlined.source = location;
            inlined.inlined = true;
            frames.push_back(std::move(inlined));
            location = call_site_of(&scopes[i], known);
        } else if (tag == DW_TAG_subprogram) {
            // gdb's choice: the DWARF name beats ELF aliases ("__GI___clock_nanosleep" and
            // "clock_nanosleep" share an address; "foo.constprop.0" is "foo").
            std::string name = scope_name(&scopes[i]);
            Dwarf_Addr low = 0;
            if (outer.function.empty() && dwarf_lowpc(&scopes[i], &low) == 0) {
                outer.offset = pc - (low + bias);  // stripped .symtab: offset from the DWARF entry
                for (auto& f : frames) f.offset = outer.offset;
            }
            // A mangled ELF name demangles with its parameter list; keep it. Assembler units
            // (GNU as names "__clone3") lose to the ELF alias, as in gdb ("clone3").
            bool assembler = dwarf_srclang(cudie) == DW_LANG_Mips_Assembler;
            if (!name.empty() && !elf_name_mangled && !assembler) outer.function = std::move(name);
            break;
        }
    }
    outer.source = location;
    frames.push_back(std::move(outer));
    return frames;
}

}  // namespace snag
