// snag buckets --format html: one self-contained page (inline CSS, no script, nothing fetched).
#pragma once

#include <string>

#include "triage/bucket_report.hpp"

namespace snag::triage {

std::string bucket_html(const BucketReport& report);

}  // namespace snag::triage
