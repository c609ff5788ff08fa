// Debug Offsets: the _Py_DebugOffsets block CPython 3.13+ puts at the start of _PyRuntime,
// read through a per-version schema (its sections and fields in struct order), so that a new
// CPython version needs a schema entry, not new code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace snag::python {

constexpr size_t kDebugOffsetsMaxSize = 1024;
constexpr char kDebugCookie[] = "xdebugpy";

// The struct has no size or layout field of its own: the version (major.minor, or the exact
// hex of a pre-release) says which schema describes it.
struct DebugOffsets {
    uint64_t version_hex = 0;
    bool free_threaded = false;
    size_t struct_size = 0;  // bytes of _Py_DebugOffsets in this version
    std::string schema;      // "3.15", "3.15.0b3"...
    std::map<std::string, uint64_t, std::less<>> values;  // "section.field" -> value

    bool has(std::string_view section, std::string_view field) const;
    // The value of section.field; nullopt when this version's struct lacks it.
    std::optional<uint64_t> get(std::string_view section, std::string_view field) const;
    // An offset as the Layout stores it: -1 when absent.
    int64_t offset(std::string_view section, std::string_view field) const;
};

// Cookie and version only: nullopt when the bytes are no _Py_DebugOffsets at all.
struct DebugOffsetsHeader {
    uint64_t version_hex = 0;
    bool free_threaded = false;
};
std::optional<DebugOffsetsHeader> parse_debug_offsets_header(std::span<const uint8_t> bytes);

// Reads the whole block. Fails (exit code 2) with a sentence naming the version when no schema
// describes it, or when an offset lies outside the structure its section describes.
Expected<DebugOffsets> parse_debug_offsets(std::span<const uint8_t> bytes);

// "3.15.2", "3.15.0b4", "3.14.0rc1".
std::string version_string(uint64_t version_hex);
std::string full_version_string(uint64_t version_hex);

// The versions that have a schema, for messages: "3.13–3.15".
std::string known_debug_offsets_versions();

}  // namespace snag::python
