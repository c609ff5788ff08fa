// DWARF types of the test binary itself (compiled with -g), and of libpython when it is installed.
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <cstddef>

#include "self_target.hpp"
#include "symbols/symbolizer.hpp"

struct SymbolsTestInner {
    short a;
    char b;
};

struct SymbolsTestRecord {
    int id;
    char name[12];
    SymbolsTestInner inner;
    SymbolsTestRecord* next;
    union {
        long as_long;
        double as_double;
    };
    unsigned flags : 3;
    unsigned more : 5;
    int grid[2][3];
};

typedef SymbolsTestRecord SymbolsTestRecordAlias;

enum SymbolsTestColour { kSymbolsRed = 1, kSymbolsBlue = -4 };

// Used, so the compiler emits their types.
SymbolsTestRecordAlias g_symbols_test_record;
SymbolsTestColour g_symbols_test_colour = kSymbolsBlue;

TEST_CASE("types: struct layout matches the compiler's offsetof") {
    snag::test::SelfTarget target;
    auto made = snag::make_symbolizer(target);
    REQUIRE(made.has_value());
    auto& s = **made;

    const snag::TypeInfo* record = s.find_type("struct SymbolsTestRecord");
    REQUIRE(record != nullptr);
    CHECK(record->kind == snag::TypeKind::Struct);
    CHECK(record->size == sizeof(SymbolsTestRecord));
    CHECK(record->name == "struct SymbolsTestRecord");
    CHECK(s.find_type("SymbolsTestRecord") == record);  // C++ needs no tag keyword

    CHECK(s.member_offset("SymbolsTestRecord", "id") == offsetof(SymbolsTestRecord, id));
    CHECK(s.member_offset("SymbolsTestRecord", "name") == offsetof(SymbolsTestRecord, name));
    CHECK(s.member_offset("SymbolsTestRecord", "inner.b") == offsetof(SymbolsTestRecord, inner.b));
    CHECK(s.member_offset("SymbolsTestRecord", "next") == offsetof(SymbolsTestRecord, next));
    CHECK(s.member_offset("SymbolsTestRecord", "as_double") == offsetof(SymbolsTestRecord, as_double));
    CHECK(s.member_offset("SymbolsTestRecord", "grid") == offsetof(SymbolsTestRecord, grid));
    CHECK_FALSE(s.member_offset("SymbolsTestRecord", "missing").has_value());
    CHECK_FALSE(s.member_offset("NoSuchType", "id").has_value());

    auto next = record->member("next");
    REQUIRE(next.has_value());
    CHECK(next->type->kind == snag::TypeKind::Pointer);
    CHECK(next->type->target == record);  // the cycle is shared, not copied
    CHECK(next->type->name == "struct SymbolsTestRecord *");

    auto name = record->member("name");
    REQUIRE(name.has_value());
    CHECK(name->type->kind == snag::TypeKind::Array);
    CHECK(name->type->count == 12);
    CHECK(name->type->size == 12);
    CHECK(name->type->target->name == "char");

    auto grid = record->member("grid");
    REQUIRE(grid.has_value());
    CHECK(grid->type->count == 2);
    CHECK(grid->type->target->count == 3);
    CHECK(grid->type->size == sizeof(int) * 6);

    auto flags = record->member("flags");
    auto more = record->member("more");
    REQUIRE((flags && more));
    CHECK(flags->bit_size == 3);
    CHECK(more->bit_size == 5);
    CHECK(more->offset * 8 + more->bit_offset == flags->offset * 8 + flags->bit_offset + 3);
}

TEST_CASE("types: typedefs, base types, pointers, enums") {
    snag::test::SelfTarget target;
    auto made = snag::make_symbolizer(target);
    REQUIRE(made.has_value());
    auto& s = **made;

    const snag::TypeInfo* alias = s.find_type("SymbolsTestRecordAlias");
    REQUIRE(alias != nullptr);
    CHECK(alias->kind == snag::TypeKind::Typedef);
    CHECK(&alias->strip_typedefs() == s.find_type("struct SymbolsTestRecord"));
    CHECK(alias->size == sizeof(SymbolsTestRecord));

    const snag::TypeInfo* long_type = s.find_type("long");
    REQUIRE(long_type != nullptr);
    CHECK(long_type->kind == snag::TypeKind::Base);
    CHECK(long_type->size == sizeof(long));
    CHECK(long_type->encoding == snag::BaseEncoding::Signed);
    const snag::TypeInfo* ulong = s.find_type("unsigned long");
    REQUIRE(ulong != nullptr);
    CHECK(ulong->encoding == snag::BaseEncoding::Unsigned);

    const snag::TypeInfo* char_pointer = s.find_type("char *");
    REQUIRE(char_pointer != nullptr);
    CHECK(char_pointer->kind == snag::TypeKind::Pointer);
    CHECK(char_pointer->size == 8);
    CHECK(char_pointer->target->name == "char");
    CHECK(char_pointer->name == "char *");
    CHECK(s.find_type("SymbolsTestRecordAlias **")->target->target == alias);

    const snag::TypeInfo* colour = s.find_type("enum SymbolsTestColour");
    REQUIRE(colour != nullptr);
    CHECK(colour->kind == snag::TypeKind::Enum);
    CHECK(colour->size == sizeof(SymbolsTestColour));
    REQUIRE(colour->enumerators.size() == 2);
    CHECK(colour->enumerators[1].first == "kSymbolsBlue");
    CHECK(colour->enumerators[1].second == -4);

    CHECK(s.find_type("struct NoSuchStructAnywhere") == nullptr);
    std::string text = snag::ptype_text(*alias);
    CHECK(text.starts_with("struct SymbolsTestRecord {\n"));
    CHECK(text.find("    char name[12];\n") != std::string::npos);
    CHECK(text.find("    struct SymbolsTestRecord *next;\n") != std::string::npos);
    CHECK(text.find("    unsigned int flags : 3;\n") != std::string::npos);
}

TEST_CASE("types: CPython's thread state from libpython's DWARF") {
    void* python = dlopen("libpython3.11.so.1.0", RTLD_LAZY | RTLD_LOCAL);
    if (!python) {
        MESSAGE("libpython3.11 not installed; skipped");
        return;
    }
    snag::test::SelfTarget target;
    auto made = snag::make_symbolizer(target);
    REQUIRE(made.has_value());
    auto& s = **made;
    CHECK(s.address_of("libpython3.11!_PyRuntime") == reinterpret_cast<uint64_t>(dlsym(python, "_PyRuntime")));
    const snag::TypeInfo* ts = s.find_type("PyThreadState");
    if (!ts) {
        MESSAGE("no DWARF for libpython3.11 (install libpython3.11-dbg); type checks skipped");
    } else {
        CHECK(ts->strip_typedefs().name == "struct _ts");
        CHECK(s.member_offset("PyThreadState", "prev") == 0);
        CHECK(s.member_offset("PyThreadState", "interp") == 16);
        CHECK(s.find_type("libpython3.11!struct _ts") == &ts->strip_typedefs());
        CHECK(s.find_type("struct _ts")->size == ts->size);
        CHECK(s.member_offset("PyCodeObject", "co_firstlineno").has_value());
    }
    dlclose(python);
}
