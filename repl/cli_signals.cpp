// Exit safety of the CLI: whatever ends snag, every live target is detached and runs on.
#include "cli.hpp"
#include "target/attach_registry.hpp"

namespace snag::cli {

void install_exit_handlers() { attach_registry::install_exit_handlers(); }

}  // namespace snag::cli
