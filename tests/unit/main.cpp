#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>

// The source tree's path is compiled here alone, so the other tests' objects are the same in every
// checkout (ccache shares them).
namespace snag::testing {
std::string snag_source_dir() { return SNAG_SOURCE_DIR; }
}  // namespace snag::testing
