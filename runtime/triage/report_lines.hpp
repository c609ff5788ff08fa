// The pieces every snag buckets format shows alike: times, lists, the headline, the example stack.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "triage/bucket_report.hpp"

namespace snag::triage {

// UTC, minutes: "2026-12-07 19:52".
std::string when(int64_t unix_seconds);
// "a, b", or "-" for none.
std::string joined(const std::vector<std::string>& items);
// The example stack as lines: "transfer_a_to_b (py_deadlock_rlock.py:19)", "libc.so.6!strlen".
std::vector<std::string> stack_lines(const std::string& stack_json);
// "<store>: 5 dumps (3 analysed, 2 unreadable, 0 failed), 2 buckets".
std::string headline(const BucketReport& r);

}  // namespace snag::triage
