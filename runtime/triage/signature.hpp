// Bucket signatures: what makes two dumps "the same problem" (docs/triage.md). A signature is
// the rule plus the normalised top frames of the finding's subject threads (the crashing thread,
// or every thread of a wait-for cycle), Python and native frames together. Kept out of it:
// addresses, PIDs and TIDs, the order of threads, line numbers, build-ids and version numbers
// in module names, and the frames every such stack has (libc waits, the allocator, abort).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace snag::triage {

struct SigFrame {
    bool python = false;
    std::string function, file, module;
    int64_t line = 0;   // shown in example stacks, never part of a signature
};

// One subject thread: its native frames and, for a Python thread, its Python frames (both
// innermost first).
struct SigThread {
    std::vector<SigFrame> native, python;
};

struct Signature {
    std::string key;    // "<rule>-<16 hex>": the bucket
    std::string text;   // "python-deadlock | transfer_a_to_b (py_deadlock_rlock.py) | ..."
};

// The signature of a finding. rule_bucket: a bucket the rule set itself (used as is);
// frames: the finding's own frames, used when it names no thread.
Signature signature_of(const std::string& rule, const std::vector<SigThread>& subject,
                       const std::vector<SigFrame>& frames, const std::string& rule_bucket = "");

// Normalisation steps, exposed for tests.
std::string normalize_function(const std::string& name);
std::string normalize_module(const std::string& path);
// True for frames every waiting or crashing thread has (libc wait primitives, the allocator,
// abort and raise): skipped at the top of a stack.
bool skipped_frame(const std::string& normalized_function);
// True for the CPython interpreter's own native frames (the eval loop, calls, thread start).
bool interpreter_frame(const SigFrame& frame);

}  // namespace snag::triage
