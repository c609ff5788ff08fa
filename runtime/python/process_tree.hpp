// Process trees: the descendants of a live process (pool workers, forked children).
#pragma once

#include <vector>

namespace snag::python {

// Every descendant of pid, breadth first (children before grandchildren), read from /proc.
std::vector<int> descendant_pids(int pid);

}  // namespace snag::python
