// DWARF types: C/C++ type layouts (sizes, member offsets) read from the modules' debug info.
//
// Obtain them from the Symbolizer:
//   const TypeInfo* t = symbolizer.find_type("PyThreadState");   // typedef, "struct _ts", "long", "char *"
//   auto off = symbolizer.member_offset("PyThreadState", "interp"); // through typedefs, a.b.c paths
// TypeInfo nodes are owned by the Symbolizer and live as long as it does; member and target
// pointers form a graph (cycles through pointers are shared nodes, never copies).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct Dwarf;  // libdw's handle, opaque here

namespace snag {

enum class TypeKind { Void, Base, Pointer, Struct, Union, Class, Array, Typedef, Enum, Function };

const char* to_string(TypeKind kind);

// How a base type's bytes are interpreted (DW_AT_encoding, simplified).
enum class BaseEncoding { None, Signed, Unsigned, SignedChar, UnsignedChar, Float, Bool };

struct TypeInfo;

struct TypeMember {
    std::string name;        // empty for anonymous struct/union members
    uint64_t offset = 0;     // bytes from the start of the enclosing type
    const TypeInfo* type = nullptr;
    uint32_t bit_size = 0;   // bitfields only
    uint32_t bit_offset = 0; // bitfields: bits after `offset` (little-endian, DW_AT_data_bit_offset)
};

struct TypeInfo {
    std::string name;        // C spelling: "struct _ts", "PyThreadState", "long int", "char *", "int [4]"
    TypeKind kind = TypeKind::Void;
    uint64_t size = 0;       // bytes; 0 for void, functions and incomplete types
    BaseEncoding encoding = BaseEncoding::None;  // Base (and Enum: signedness of the values)
    // Pointee (Pointer), element (Array), aliased type (Typedef), underlying type (Enum);
    // return type (Function). nullptr means void or unknown.
    const TypeInfo* target = nullptr;
    uint64_t count = 0;      // Array elements; 0 for flexible or unknown bounds
    std::vector<TypeMember> members;                      // Struct/Union/Class, in DWARF order
    std::vector<std::pair<std::string, int64_t>> enumerators;  // Enum
    bool declaration = false;  // incomplete (only declared in every module searched)
    std::string module;      // path of the module whose DWARF defined it
    Dwarf* dwarf = nullptr;  // the DIE it was built from (dwarf_offdie), for printing values of it;
    uint64_t die_offset = 0; // nullptr for synthesized types (pointers, inner array dimensions)

    // Direct member by name; anonymous struct/union members are searched transparently and
    // the returned offset is relative to this type.
    std::optional<TypeMember> member(std::string_view name) const;
    // Follows typedefs to the type that has the layout.
    const TypeInfo& strip_typedefs() const;
};

// gdb `ptype` text: "struct _ts {\n    struct _ts *prev;\n ...}" (one level of members).
std::string ptype_text(const TypeInfo& type);

// Lazily indexes the DWARF of each module (once) and materialises types on demand.
class TypeCatalog {
public:
    // Yields module i's DWARF (nullptr when it has none); called at most once per module.
    using DwarfOf = std::function<Dwarf*(size_t module)>;
    TypeCatalog(std::vector<std::string> module_paths, DwarfOf dwarf_of);
    ~TypeCatalog();
    TypeCatalog(const TypeCatalog&) = delete;
    TypeCatalog& operator=(const TypeCatalog&) = delete;

    // "module!name" restricts the search to modules whose file name starts with `module`.
    const TypeInfo* find(std::string_view name);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "a.b.c" through nested (non-pointer) members; nullopt when any step is missing.
std::optional<uint64_t> member_offset(const TypeInfo& type, std::string_view member_path);

}  // namespace snag
