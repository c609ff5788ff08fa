// JSON text of a report. Strings come from the target's memory (names, paths, reprs) and a
// damaged core can hold bytes that are not UTF-8: they become U+FFFD instead of an exception.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace snag {

inline std::string json_text(const nlohmann::json& doc, int indent = 2) {
    return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace snag
