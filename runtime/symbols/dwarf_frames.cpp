#include "symbols/dwarf_frames.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>

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

// Qualified (demangled linkage) name when DWARF has one, else the plain DW_AT_name.
std::string scope_name(Dwarf_Die* scope) {
    Dwarf_Attribute attr;
    for (int name_attr : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
        if (dwarf_attr_integrate(scope, name_attr, &attr))
            if (const char* linkage = dwarf_formstring(&attr)) return demangle(linkage);
    if (dwarf_attr_integrate(scope, DW_AT_name, &attr))
        if (const char* name = dwarf_formstring(&attr)) return name;
    return {};
}

// Where an inlined body was called from: DW_AT_call_file/call_line of its DIE.
std::optional<SourceLocation> call_site_of(Dwarf_Die* inlined) {
    Dwarf_Attribute attr;
    Dwarf_Word file_index = 0, line = 0;
    if (!dwarf_attr(inlined, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &file_index) != 0)
        return std::nullopt;
    if (dwarf_attr(inlined, DW_AT_call_line, &attr)) dwarf_formudata(&attr, &line);
    Dwarf_Die cu;
    if (!dwarf_diecu(inlined, &cu, nullptr, nullptr)) return std::nullopt;
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    if (dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 || file_index >= nfiles) return std::nullopt;
    const char* name = dwarf_filesrc(files, file_index, nullptr, nullptr);
    if (!name) return std::nullopt;
    return SourceLocation{name, static_cast<int>(line)};
}

}  // namespace

std::vector<Symbol> frames_at(Dwfl_Module* module, uint64_t address, uint64_t pc, Symbol outer) {
    std::optional<SourceLocation> location = line_at(module, address);
    Dwarf_Addr bias = 0;
    Dwarf_Die* cudie = dwfl_module_addrdie(module, address, &bias);
    std::vector<Symbol> frames;
    Dwarf_Die* scopes = nullptr;
    int count = cudie ? dwarf_getscopes(cudie, address - bias, &scopes) : 0;
    for (int i = 0; i < count; ++i) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine) {
            Symbol inlined = outer;
            inlined.function = scope_name(&scopes[i]);
            inlined.source = location;
            inlined.inlined = true;
            frames.push_back(std::move(inlined));
            location = call_site_of(&scopes[i]);
        } else if (tag == DW_TAG_subprogram) {
            // Stripped .symtab but DWARF present: name and offset come from the subprogram.
            Dwarf_Addr low = 0;
            if (outer.function.empty() && dwarf_lowpc(&scopes[i], &low) == 0) {
                outer.function = scope_name(&scopes[i]);
                outer.offset = pc - (low + bias);
                for (auto& f : frames) f.offset = outer.offset;
            }
            break;
        }
    }
    free(scopes);
    outer.source = location;
    frames.push_back(std::move(outer));
    return frames;
}

}  // namespace snag
