#include "python/line_table.hpp"

#include <algorithm>
#include <cstdint>

namespace snag::python {
namespace {

// co_lnotab: the line of the last pair whose address does not pass the offset.
int lnotab_line(std::string_view t, int firstlineno, int64_t offset, bool signed_lines) {
    int line = firstlineno;
    int64_t addr = 0;
    for (size_t i = 0; i + 1 < t.size(); i += 2) {
        addr += static_cast<uint8_t>(t[i]);
        if (addr > offset) break;
        line += signed_lines ? static_cast<int8_t>(t[i + 1]) : static_cast<uint8_t>(t[i + 1]);
    }
    return line;
}

// PEP 626 table: ranges [start, end) with a line each; -128 marks a range without a line.
int linetable310_line(std::string_view t, int firstlineno, int64_t offset) {
    int line = firstlineno;
    int64_t end = 0;
    for (size_t i = 0; i + 1 < t.size(); i += 2) {
        int64_t start = end;
        end += static_cast<uint8_t>(t[i]);
        int8_t delta = static_cast<int8_t>(t[i + 1]);
        int range_line = -1;
        if (delta != -128) {
            line += delta;
            range_line = line;
        }
        if (start == end) continue;  // zero-length ranges only carry line deltas
        if (offset >= start && offset < end) return range_line;
    }
    return offset < 0 ? firstlineno : -1;
}

struct Cursor {
    std::string_view t;
    size_t pos = 0;
    bool more() const { return pos < t.size(); }
    uint8_t byte() { return pos < t.size() ? static_cast<uint8_t>(t[pos++]) : 0; }
    // 6-bit chunks, least significant first; bit 6 says another chunk follows.
    uint64_t varint() {
        uint64_t value = 0;
        for (int shift = 0; more() && shift < 64; shift += 6) {
            uint8_t b = byte();
            value |= static_cast<uint64_t>(b & 63) << shift;
            if (!(b & 64)) break;
        }
        return value;
    }
    // Bounded to ±2^31: a damaged table must not overflow the line arithmetic.
    int64_t svarint() {
        uint64_t v = varint();
        int64_t magnitude = static_cast<int64_t>(std::min<uint64_t>(v >> 1, INT32_MAX));
        return (v & 1) ? -magnitude : magnitude;
    }
};

// 3.11+ location table: each entry covers (b&7)+1 code units and says how the line moves, and
// where the instruction's source range starts and ends (Objects/locations.md).
SourcePosition locations_position(std::string_view t, int firstlineno, int64_t offset) {
    if (offset < 0) return {firstlineno, firstlineno, -1, -1};
    int64_t unit = offset / 2;
    int64_t line = firstlineno;
    int64_t at = 0;
    Cursor c{t};
    while (c.more()) {
        uint8_t first = c.byte();
        if (!(first & 0x80)) continue;  // resynchronise on an entry start
        int code = (first >> 3) & 15;
        int64_t length = (first & 7) + 1;
        SourcePosition p;  // code 15: no location
        if (code == 14) {
            line += c.svarint();
            int64_t end_line = line + static_cast<int64_t>(std::min<uint64_t>(c.varint(), INT32_MAX));
            int64_t column = static_cast<int64_t>(c.varint()) - 1, end_column = static_cast<int64_t>(c.varint()) - 1;
            p = {static_cast<int>(line), static_cast<int>(end_line), static_cast<int>(column), static_cast<int>(end_column)};
        } else if (code == 13) {
            line += c.svarint();
            p = {static_cast<int>(line), static_cast<int>(line), -1, -1};
        } else if (code >= 10 && code <= 12) {
            line += code - 10;
            int column = c.byte();
            int end_column = c.byte();
            p = {static_cast<int>(line), static_cast<int>(line), column, end_column};
        } else if (code < 10) {
            uint8_t second = c.byte();  // short form: same line, column in 8 * code + (second >> 4)
            int column = code * 8 + ((second >> 4) & 7);
            p = {static_cast<int>(line), static_cast<int>(line), column, column + (second & 15)};
        }
        if (line < INT32_MIN || line > INT32_MAX) return {};  // a damaged table: no line rather than a lie
        if (unit >= at && unit < at + length) return p;
        at += length;
    }
    return {};
}

}  // namespace

int line_for_offset(LineTableFormat format, std::string_view table, int firstlineno,
                    int64_t byte_offset) {
    switch (format) {
    case LineTableFormat::Lnotab27: return lnotab_line(table, firstlineno, byte_offset, false);
    case LineTableFormat::Lnotab: return lnotab_line(table, firstlineno, byte_offset, true);
    case LineTableFormat::Linetable310: return linetable310_line(table, firstlineno, byte_offset);
    case LineTableFormat::Locations311: return locations_position(table, firstlineno, byte_offset).line;
    }
    return -1;
}

SourcePosition position_for_offset(LineTableFormat format, std::string_view table, int firstlineno,
                                   int64_t byte_offset) {
    if (format == LineTableFormat::Locations311) return locations_position(table, firstlineno, byte_offset);
    int line = line_for_offset(format, table, firstlineno, byte_offset);
    return {line, line, -1, -1};
}

}  // namespace snag::python
