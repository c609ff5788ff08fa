// memory_copy: copies many ranges of a stopped process with few process_vm_readv calls.
#pragma once

#include <vector>

#include "dump/core_writer.hpp"

namespace snag::dump {

// Copies each request; pages that cannot be read (guard pages, beyond a file's end) stay zero.
// Returns the bytes copied.
uint64_t copy_process_memory(int pid, const std::vector<CopyRequest>& requests);

}  // namespace snag::dump
