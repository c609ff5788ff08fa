// Errors are values at layer boundaries: every fallible call returns Expected<T>.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace snag {

// What went wrong, in one sentence a user can act on.
struct Error {
    std::string message;
    // Exit status the CLI should use; 2 = usage/target/permission problem.
    int exit_code = 2;
};

template <class T>
using Expected = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int exit_code = 2) {
    return std::unexpected<Error>(Error{std::move(message), exit_code});
}

}  // namespace snag
