// Paging: output longer than the terminal goes through $PAGER (default `less -FRX`), only when
// stdout is a terminal; otherwise it is written as is.
#pragma once

#include <string>

namespace snag::cli {

void show_output(const std::string& text);

}  // namespace snag::cli
