// Line-table decoders against tables and (offset → line) lists produced by the real interpreters.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "python/line_table.hpp"

using snag::python::LineTableFormat;
using snag::python::line_for_offset;

namespace {

std::string unhex(const std::string& hex) {
    std::string out;
    if (hex == "-") return out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

LineTableFormat format_named(const std::string& name) {
    if (name == "lnotab") return LineTableFormat::Lnotab;
    if (name == "linetable310") return LineTableFormat::Linetable310;
    return LineTableFormat::Locations311;
}

}  // namespace

TEST_CASE("line tables of every interpreter decode to the lines CPython reports") {
    std::ifstream in(SNAG_SOURCE_DIR "/tests/unit/data/line_tables.txt");
    REQUIRE(in.good());
    std::string row;
    int code_objects = 0, offsets = 0;
    std::set<int> minors;
    while (std::getline(in, row)) {
        std::istringstream fields(row);
        int minor = 0, firstlineno = 0;
        std::string format, hex, pairs;
        fields >> minor >> format >> firstlineno >> hex >> pairs;
        minors.insert(minor);
        std::string table = unhex(hex);
        std::istringstream items(pairs);
        std::string item;
        while (std::getline(items, item, ',')) {
            auto colon = item.find(':');
            int offset = std::stoi(item.substr(0, colon));
            int line = std::stoi(item.substr(colon + 1));
            CAPTURE(row.substr(0, 40));
            CAPTURE(offset);
            CHECK(line_for_offset(format_named(format), table, firstlineno, offset) == line);
            ++offsets;
        }
        ++code_objects;
    }
    CHECK(minors.size() == 8);
    CHECK(code_objects >= 40);
    CHECK(offsets > 500);
}

TEST_CASE("negative offsets (frame not started) give the first line") {
    CHECK(line_for_offset(LineTableFormat::Lnotab, "\x02\x01", 7, -1) == 7);
    CHECK(line_for_offset(LineTableFormat::Linetable310, "\x02\x01", 7, -2) == 7);
    CHECK(line_for_offset(LineTableFormat::Locations311, "\x80\x00", 7, -2) == 7);
}

TEST_CASE("truncated or garbage tables never read past their end") {
    std::string junk = "\xff\xff\xff\xff\xf0";
    CHECK(line_for_offset(LineTableFormat::Locations311, junk, 1, 1000) == -1);
    CHECK(line_for_offset(LineTableFormat::Linetable310, junk, 1, 1000) == -1);
    CHECK(line_for_offset(LineTableFormat::Lnotab, junk, 1, 1000) == -1);  // two pairs of -1, odd byte ignored
}

TEST_CASE("2.7 co_lnotab line deltas are unsigned") {
    // def f(): a = 1 at line 2, b = 2 two hundred lines below (table from pyenv 2.7.18's compile()).
    std::string table = unhex("000106c90601");
    CHECK(line_for_offset(LineTableFormat::Lnotab27, table, 1, 0) == 2);
    CHECK(line_for_offset(LineTableFormat::Lnotab27, table, 1, 9) == 203);
    CHECK(line_for_offset(LineTableFormat::Lnotab27, table, 1, 12) == 204);
    CHECK(line_for_offset(LineTableFormat::Lnotab, table, 1, 9) == 2 - 55);  // 3.6+ reads 0xc9 as -55
}

TEST_CASE("3.11+ positions: line, end line and columns as co_positions gives them") {
    // Python 3.11.7: a function whose statements span lines (long-form entries) and columns.
    std::string table = unhex("8000d80809d80809f10301090a8041e50b1d9861d80811880988099031d41345f103010c4701f4000"
                              "10c4701f00001054701");
    struct Want {
        int64_t offset;
        int line, end_line, column, end_column;
    };
    for (Want w : {Want{2, 2, 2, 8, 9}, Want{6, 2, 3, 8, 9}, Want{12, 4, 4, 11, 29}, Want{24, 4, 4, 30, 31},
                   Want{34, 5, 5, 19, 69}, Want{44, 4, 5, 11, 70}, Want{58, 4, 5, 4, 70}}) {
        auto p = snag::python::position_for_offset(LineTableFormat::Locations311, table, 1, w.offset);
        CAPTURE(w.offset);
        CHECK(p.line == w.line);
        CHECK(p.end_line == w.end_line);
        CHECK(p.column == w.column);
        CHECK(p.end_column == w.end_column);
        CHECK(line_for_offset(LineTableFormat::Locations311, table, 1, w.offset) == w.line);
    }
    auto old = snag::python::position_for_offset(LineTableFormat::Lnotab, "", 7, 0);
    CHECK(old.line == 7);
    CHECK(old.column == -1);  // no columns before 3.11
}
