// DWARF layouts: when the interpreter's module has debug info, its struct offsets replace the
// built-in table (the table stays the fallback for fields DWARF does not describe).
#pragma once

#include <string>

#include "python/layout.hpp"
#include "symbols/symbolizer.hpp"

namespace snag::python {

// Overrides every field present in `layout` that the DWARF of module_path describes; records
// the source in layout.source. Returns how many fields DWARF supplied.
int apply_dwarf_layout(Symbolizer& symbols, const std::string& module_path, Layout& layout);

}  // namespace snag::python
