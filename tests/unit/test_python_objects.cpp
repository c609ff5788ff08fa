// Python object decoders, layouts and frame walks over synthetic memory (no process needed).
#include <doctest/doctest.h>

#include <cstring>
#include <map>

#include "python/frames.hpp"
#include "python/layout.hpp"
#include "python/lock_layout.hpp"
#include "python/objects.hpp"
#include "memory_only_target.hpp"

using namespace snag;
using namespace snag::python;

namespace {

// A Target whose memory is a set of byte ranges; everything else is empty.
class FakeTarget : public test::MemoryOnlyTarget {
public:
    size_t read(uint64_t addr, void* out, size_t len) override {
        auto it = ranges_.upper_bound(addr);
        if (it == ranges_.begin()) return 0;
        --it;
        uint64_t start = it->first;
        const std::string& bytes = it->second;
        if (addr >= start + bytes.size()) return 0;
        size_t n = std::min<size_t>(len, start + bytes.size() - addr);
        std::memcpy(out, bytes.data() + (addr - start), n);
        return n;
    }

    // Writes bytes at addr, growing the range that holds addr (ranges never overlap in tests).
    void put(uint64_t addr, const void* data, size_t len) {
        if (len == 0) return;  // memcpy from a null source is undefined even for 0 bytes
        auto it = ranges_.upper_bound(addr);
        if (it != ranges_.begin()) {
            --it;
            if (addr <= it->first + it->second.size()) {
                std::string& bytes = it->second;
                if (bytes.size() < addr - it->first + len) bytes.resize(addr - it->first + len);
                std::memcpy(bytes.data() + (addr - it->first), data, len);
                return;
            }
        }
        ranges_[addr] = std::string(static_cast<const char*>(data), len);
    }
    void u64(uint64_t addr, uint64_t v) { put(addr, &v, 8); }
    void i32(uint64_t addr, int32_t v) { put(addr, &v, 4); }
    void u8(uint64_t addr, uint8_t v) { put(addr, &v, 1); }
    void text(uint64_t addr, const std::string& s) { put(addr, s.c_str(), s.size() + 1); }

private:
    std::map<uint64_t, std::string> ranges_;
};

// A tiny heap of fake objects with the 3.12 layout unless told otherwise.
struct Heap {
    FakeTarget target;
    Layout layout;
    uint64_t next = 0x100000;
    std::map<std::string, uint64_t> types;

    explicit Heap(int minor = 12) : layout(*builtin_layout(minor)) {}
    explicit Heap(Layout l) : layout(std::move(l)) {}

    uint64_t alloc(size_t size) {
        uint64_t at = next;
        size = (size + 63) & ~63ull;
        next += size;
        std::string zeros(size, '\0');  // contiguous with the previous allocation: one range
        target.put(at, zeros.data(), zeros.size());
        return at;
    }
    uint64_t type(const std::string& name, uint64_t flags = 0) {
        auto it = types.find(name);
        if (it != types.end()) return it->second;
        uint64_t t = alloc(400), n = alloc(name.size() + 1);
        target.text(n, name);
        target.u64(t + layout.tp_name, n);
        target.u64(t + layout.tp_flags, flags);
        return types[name] = t;
    }
    uint64_t object(const std::string& type_name, size_t size, uint64_t flags = 0) {
        uint64_t o = alloc(size);
        target.u64(o + layout.ob_type, type(type_name, flags));
        return o;
    }
    uint64_t ascii(const std::string& s) {
        uint64_t o = object("str", layout.str_ascii_size + s.size() + 1, kUnicodeSubclass);
        target.u64(o + layout.str_length, s.size());
        target.i32(o + layout.str_state, (1 << 2) | (1 << 5) | (1 << 6));  // kind 1, compact, ascii
        target.put(o + layout.str_ascii_size, s.data(), s.size());
        return o;
    }
    uint64_t ucs(const std::u32string& s, int kind) {
        uint64_t o = object("str", layout.str_compact_size + s.size() * kind, kUnicodeSubclass);
        target.u64(o + layout.str_length, s.size());
        target.i32(o + layout.str_state, (kind << 2) | (1 << 5));
        for (size_t i = 0; i < s.size(); ++i) target.put(o + layout.str_compact_size + i * kind, &s[i], kind);
        return o;
    }
    uint64_t integer(std::vector<uint32_t> digits, bool negative) {
        uint64_t o = object("int", layout.long_digits + 4 * digits.size(), kLongSubclass);
        if (layout.long_tagged) {
            uint64_t sign = digits.empty() ? 1 : negative ? 2 : 0;
            target.u64(o + layout.long_tag, (digits.size() << 3) | sign);
        } else {
            int64_t size = negative ? -static_cast<int64_t>(digits.size()) : digits.size();
            target.u64(o + layout.long_tag, size);
        }
        target.put(o + layout.long_digits, digits.data(), 4 * digits.size());
        return o;
    }
    uint64_t tuple(std::vector<uint64_t> items) {
        uint64_t o = object("tuple", layout.tuple_items + 8 * items.size(), kTupleSubclass);
        target.u64(o + layout.var_size, items.size());
        target.put(o + layout.tuple_items, items.data(), 8 * items.size());
        return o;
    }
    uint64_t bytes(const std::string& b) {
        uint64_t o = object("bytes", layout.bytes_data + b.size() + 1, kBytesSubclass);
        target.u64(o + layout.var_size, b.size());
        target.put(o + layout.bytes_data, b.data(), b.size());
        return o;
    }
    // 3.11+ dict with a unicode-keys table: {key: value} entries in order.
    uint64_t dict(std::vector<std::pair<uint64_t, uint64_t>> items) {
        uint64_t keys = alloc(32 + 8 + 16 * items.size());
        target.u8(keys + 8, 3);   // log2 size
        target.u8(keys + 9, 3);   // log2 index bytes: 8 bytes of indices
        target.u8(keys + 10, 1);  // DICT_KEYS_UNICODE
        target.u64(keys + 24, items.size());
        for (size_t i = 0; i < items.size(); ++i) {
            target.u64(keys + 40 + 16 * i, items[i].first);
            target.u64(keys + 48 + 16 * i, items[i].second);
        }
        uint64_t d = object("dict", 48, kDictSubclass);
        target.u64(d + layout.dict_used, items.size());
        target.u64(d + layout.dict_keys, keys);
        return d;
    }
};

// Reads through a fresh cache: Memory keeps pages, and tests keep writing objects.
std::string repr_of(Heap& heap, uint64_t o, const ReprLimits& limits = {}) {
    Memory mem(heap.target);
    Objects obj(mem, heap.layout);
    return obj.repr(o, limits);
}

// An RLock whose type has tp_basicsize, owner and count at owner_at and owner_at + 8.
uint64_t rlock(Heap& heap, uint64_t basicsize, uint64_t owner_at, uint64_t owner, uint64_t count) {
    uint64_t r = heap.object("_thread.RLock", 80);
    heap.target.u64(heap.type("_thread.RLock") + heap.layout.tp_basicsize, basicsize);
    heap.target.u64(r + owner_at, owner);
    heap.target.u64(r + owner_at + 8, count);
    return r;
}

void check_rlock(Heap& heap, uint64_t r, uint64_t owner, uint64_t count) {
    Memory mem(heap.target);
    LockState rs = read_lock_state(mem, heap.layout, r, true);
    CHECK(rs.known);
    CHECK(rs.owner_thread_id == owner);
    CHECK(rs.count == count);
}

}  // namespace

TEST_CASE("float repr matches Python's shortest round-trip text") {
    CHECK(float_repr(1.5) == "1.5");
    CHECK(float_repr(0.1) == "0.1");
    CHECK(float_repr(1e16) == "1e+16");
    CHECK(float_repr(1e15) == "1000000000000000.0");
    CHECK(float_repr(1e-5) == "1e-05");
    CHECK(float_repr(0.0001) == "0.0001");
    CHECK(float_repr(123456789012345678.0) == "1.2345678901234568e+17");
    CHECK(float_repr(-0.0) == "-0.0");
    CHECK(float_repr(2.0) == "2.0");
    CHECK(float_repr(1.0 / 3) == "0.3333333333333333");
}

TEST_CASE("str reprs quote like Python") {
    CHECK(quote_str("it's") == "\"it's\"");
    CHECK(quote_str("a\nb\\") == "'a\\nb\\\\'");
    CHECK(quote_bytes(std::string("\x00\xffok", 4)) == "b'\\x00\\xffok'");
}

TEST_CASE("strings of every kind decode to UTF-8") {
    Heap heap;
    uint64_t hello = heap.ascii("hello"), latin = heap.ucs(U"héllo", 1), cyr = heap.ucs(U"текст", 2);
    uint64_t snake = heap.ucs(U"🐍 ok", 4), jp = heap.ucs(U"日本", 2), num = heap.integer({1}, false);
    Memory mem(heap.target);
    Objects obj(mem, heap.layout);
    CHECK(obj.str(hello) == "hello");
    CHECK(obj.str(latin) == "héllo");
    CHECK(obj.str(cyr) == "текст");
    CHECK(obj.str(snake) == "🐍 ok");
    CHECK(obj.repr(jp) == "'日本'");
    CHECK_FALSE(obj.str(num).has_value());  // not a str
}

TEST_CASE("ints of any size, both header formats") {
    for (int minor : {11, 12}) {
        Heap heap(minor);
        CAPTURE(minor);
        CHECK(repr_of(heap, heap.integer({}, false)) == "0");
        CHECK(repr_of(heap, heap.integer({42}, true)) == "-42");
        // 2**100 = digits (30-bit): 0, 0, 0, 1<<10
        CHECK(repr_of(heap, heap.integer({0, 0, 0, 1u << 10}, false)) == "1267650600228229401496703205376");
        uint64_t two_digits = heap.integer({5, 1}, false);
        Memory mem(heap.target);
        Objects obj(mem, heap.layout);
        CHECK(obj.small_int(two_digits) == (int64_t{1} << 30) + 5);
    }
}

TEST_CASE("Python 2.7 values render as 2.7's repr") {
    Heap heap(builtin_layout_27());
    auto str = [&](const std::string& b) {  // PyStringObject: ob_size, then the bytes at ob_sval
        uint64_t o = heap.object("str", heap.layout.bytes_data + b.size() + 1, kBytesSubclass);
        heap.target.u64(o + heap.layout.var_size, b.size());
        heap.target.put(o + heap.layout.bytes_data, b.data(), b.size());
        return o;
    };
    uint64_t small = heap.object("int", 24, kIntSubclass);
    heap.target.u64(small + heap.layout.int_value, static_cast<uint64_t>(-42));
    uint64_t big = heap.object("long", 32, kLongSubclass);
    heap.target.u64(big + 16, 2);
    uint32_t digits[2] = {5, 1};
    heap.target.put(big + heap.layout.long_digits, digits, 8);
    std::u32string wide = U"h\u00e9 \u2713 \U0001f40d'";
    uint64_t buffer = heap.alloc(4 * wide.size());
    heap.target.put(buffer, wide.data(), 4 * wide.size());
    uint64_t uni = heap.object("unicode", 48, kUnicodeSubclass);
    heap.target.u64(uni + heap.layout.unicode_length, wide.size());
    heap.target.u64(uni + heap.layout.unicode_buffer, buffer);
    // dict: an 8-slot table of {hash, key, value}; slot 1 is a deleted entry (value NULL).
    uint64_t table = heap.alloc(8 * 24), key = str("k");
    heap.target.u64(table + 24 + 8, str("<dummy key>"));
    heap.target.u64(table + 3 * 24 + 8, key);
    heap.target.u64(table + 3 * 24 + 16, small);
    uint64_t d = heap.object("dict", 248, kDictSubclass);
    heap.target.u64(d + heap.layout.dict_mask, 7);
    heap.target.u64(d + heap.layout.dict_table, table);
    CHECK(repr_of(heap, small) == "-42");
    CHECK(repr_of(heap, big) == "1073741829L");
    CHECK(repr_of(heap, str("a\xff'")) == "\"a\\xff'\"");
    CHECK(repr_of(heap, uni) == "u\"h\\xe9 \\u2713 \\U0001f40d'\"");
    CHECK(repr_of(heap, d) == "{'k': -42}");
    Memory mem(heap.target);
    Objects obj(mem, heap.layout);
    CHECK(obj.str(key) == "k");
    CHECK(obj.str(uni) == "h\u00e9 \u2713 \U0001f40d'");
    CHECK(obj.small_int(small) == -42);
    CHECK(obj.dict_get(d, "k") == small);
}

TEST_CASE("containers render with their items and respect limits") {
    Heap heap;
    uint64_t none = heap.object("NoneType", 16);
    uint64_t t = heap.tuple({heap.integer({1}, false), heap.ascii("x"), none});
    CHECK(repr_of(heap, t) == "(1, 'x', None)");
    CHECK(repr_of(heap, heap.tuple({heap.integer({7}, false)})) == "(7,)");
    uint64_t d = heap.dict({{heap.ascii("a"), t}, {heap.ascii("b"), heap.bytes("z\n")}});
    CHECK(repr_of(heap, d) == "{'a': (1, 'x', None), 'b': b'z\\n'}");
    Memory mem(heap.target);
    Objects obj(mem, heap.layout);
    CHECK(obj.dict_get(d, "b").has_value());
    CHECK_FALSE(obj.dict_get(d, "c").has_value());
    ReprLimits small;
    small.items = 2;
    CHECK(repr_of(heap, heap.tuple({none, none, none}), small) == "(None, None, ...)");
    small.depth = 1;
    CHECK(repr_of(heap, heap.tuple({t}), small) == "((...),)");
}

TEST_CASE("hostile objects give marked text, not crashes") {
    Heap heap;
    CHECK(repr_of(heap, 0xdead0000) == "<unreadable object at 0xdead0000>");
    uint64_t huge = heap.ascii("abc");
    heap.target.u64(huge + heap.layout.str_length, uint64_t{1} << 40);  // length far past the object
    std::string text = repr_of(heap, huge);
    CHECK(text.rfind("'abc", 0) == 0);          // what is readable, capped...
    CHECK(text.substr(text.size() - 3) == "...");  // ...and marked as cut
    CHECK(text.size() < 1200);
    uint64_t t = heap.tuple({});
    heap.target.u64(t + heap.layout.var_size, uint64_t{1} << 60);  // absurd tuple size
    std::string items = repr_of(heap, t);  // reads only the first items past the object
    CHECK(items.substr(items.size() - 6) == ", ...)");
    CHECK(items.size() < 600);
    uint64_t self_ref = heap.tuple({0});
    heap.target.u64(self_ref + heap.layout.tuple_items, self_ref);  // a tuple containing itself
    CHECK(repr_of(heap, self_ref) == "((((...),),),)");
    uint64_t list = heap.object("list", 40, kListSubclass);
    heap.target.u64(list + heap.layout.var_size, 3);  // three items and a NULL item array
    CHECK(repr_of(heap, list).find(" (damaged: 3 items, item array NULL)>") != std::string::npos);
    heap.target.u64(list + heap.layout.var_size, 0);
    CHECK(repr_of(heap, list) == "[]");  // an empty list has no array: that is no damage
}

TEST_CASE("a cyclic frame chain stops with an error instead of hanging") {
    Heap heap(12);
    const Layout& l = heap.layout;
    uint64_t code = heap.object("code", 400);
    heap.target.u64(code + l.co_name, heap.ascii("loop"));
    heap.target.u64(code + l.co_qualname, heap.ascii("loop"));
    heap.target.u64(code + l.co_filename, heap.ascii("x.py"));
    heap.target.i32(code + l.co_firstlineno, 10);
    heap.target.u64(code + l.co_linetable, heap.bytes("\xd0\x00\x00"));  // one unit, line +0
    heap.target.u64(code + l.var_size, 4);
    uint64_t f1 = heap.alloc(128), f2 = heap.alloc(128);
    for (uint64_t f : {f1, f2}) {
        heap.target.u64(f + l.fr_code, code);
        heap.target.u64(f + l.fr_instr, code + l.co_code_adaptive);
    }
    heap.target.u64(f1 + l.fr_back, f2);
    heap.target.u64(f2 + l.fr_back, f1);
    Memory mem(heap.target);
    Objects obj(mem, l);
    FrameWalker walker(mem, obj, l);
    FrameChain chain = walker.walk(f1, false, {});
    REQUIRE(chain.frames.size() == 2);
    CHECK(chain.frames[0].function == "loop");
    CHECK(chain.frames[0].line == 10);
    CHECK(chain.error.find("loops") != std::string::npos);
}

TEST_CASE("a frame whose code is not a code object ends the walk with an error") {
    Heap heap(10);
    const Layout& l = heap.layout;
    uint64_t f = heap.alloc(400);
    heap.target.u64(f + l.fr_code, heap.ascii("not code"));
    Memory mem(heap.target);
    Objects obj(mem, l);
    FrameWalker walker(mem, obj, l);
    FrameChain chain = walker.walk(f, false, {});
    CHECK(chain.frames.empty());
    CHECK_FALSE(chain.error.empty());
}

TEST_CASE("file names give the interpreter version") {
    CHECK(snag::python::builtin_layout(6).has_value());
    CHECK_FALSE(snag::python::builtin_layout(5).has_value());
}

TEST_CASE("lock states follow the build's layout, checked by tp_basicsize and patch version") {
    Heap heap(13);
    auto lock = [&](uint64_t basicsize, uint64_t at, uint8_t byte) {
        uint64_t o = heap.object("_thread.lock", 64);
        heap.target.u64(heap.type("_thread.lock") + heap.layout.tp_basicsize, basicsize);
        heap.target.u8(o + at, byte);
        return o;
    };
    heap.layout.micro = 0;  // 3.13.0: {head, lock_lock, weakreflist, char locked}
    Memory mem0(heap.target);
    Objects obj0(mem0, heap.layout);
    uint64_t held = lock(40, 32, 1);
    CHECK(obj0.repr(held).starts_with("<locked _thread.lock object at "));
    heap.target.u8(held + 32, 0);
    heap.target.u8(held + 16, 1);  // a PyMutex byte means nothing in the 3.13.0 layout
    Memory mem0b(heap.target);
    Objects obj0b(mem0b, heap.layout);
    CHECK(obj0b.repr(held).starts_with("<unlocked _thread.lock object at "));

    heap.layout.micro = 5;  // 3.13.5: {head, PyMutex}; tp_basicsize 24
    heap.target.u64(heap.type("_thread.lock") + heap.layout.tp_basicsize, 24);
    Memory mem5(heap.target);
    Objects obj5(mem5, heap.layout);
    CHECK(obj5.repr(held).starts_with("<locked _thread.lock object at "));
    LockState parked = read_lock_state(mem5, heap.layout, held, false);
    CHECK(parked.known);
    CHECK(parked.locked);

    // 3.13.5 with the old size, or a size no release has: never guessed.
    heap.target.u64(heap.type("_thread.lock") + heap.layout.tp_basicsize, 40);
    Memory mem_bad(heap.target);
    Objects obj_bad(mem_bad, heap.layout);
    CHECK(obj_bad.repr(held).find("state unknown: its layout is not verified: tp_basicsize 40") != std::string::npos);
    heap.target.u64(heap.type("_thread.lock") + heap.layout.tp_basicsize, 56);
    Memory mem_ft(heap.target);
    CHECK_FALSE(read_lock_state(mem_ft, heap.layout, held, false).known);

    check_rlock(heap, rlock(heap, 48, 24, 0x7f00aa, 2), 0x7f00aa, 2);
}

namespace {

// The 3.13 layout as a free-threaded build's _Py_DebugOffsets give it: ob_type at 24.
Layout free_threaded_313() {
    Layout l = *builtin_layout(13);
    l.free_threaded = true;
    l.ob_type = 24;
    for (Off* f : {&l.tp_name, &l.tp_basicsize, &l.tp_flags, &l.var_size, &l.tuple_items, &l.bytes_data,
                   &l.long_tag, &l.long_digits, &l.str_state, &l.str_length, &l.str_ascii_size,
                   &l.str_compact_size, &l.dict_used, &l.dict_keys, &l.dict_values})
        *f += 16;
    return l;
}

}  // namespace

TEST_CASE("free-threaded objects: values and lock states after the 32-byte header") {
    Heap heap(free_threaded_313());
    CHECK(repr_of(heap, heap.ascii("abc")) == "'abc'");
    CHECK(repr_of(heap, heap.integer({42}, true)) == "-42");
    CHECK(repr_of(heap, heap.tuple({heap.integer({1}, false), heap.bytes("x")})) == "(1, b'x')");
    CHECK(repr_of(heap, heap.dict({{heap.ascii("k"), heap.integer({7}, false)}})) == "{'k': 7}");
    heap.layout.micro = 5;
    uint64_t lock = heap.object("_thread.lock", 64);
    heap.target.u64(heap.type("_thread.lock") + heap.layout.tp_basicsize, 40);  // {head, PyMutex}
    heap.target.u8(lock + 32, 1);
    Memory mem(heap.target);
    LockState held = read_lock_state(mem, heap.layout, lock, false);
    CHECK(held.known);
    CHECK(held.locked);
    uint64_t r = rlock(heap, 64, 40, 0x7f00aa, 3);  // rlock_owner, rlock_count: +16 from a GIL build's
    check_rlock(heap, r, 0x7f00aa, 3);
    heap.target.u64(heap.type("_thread.RLock") + heap.layout.tp_basicsize, 48);  // a GIL build's size
    Memory mem_bad(heap.target);
    CHECK_FALSE(read_lock_state(mem_bad, heap.layout, r, true).known);
}

TEST_CASE("3.14t: a frame running a thread-local bytecode copy gets its line from that copy") {
    Heap heap(14);
    Layout& l = heap.layout;
    l.fr_tlbc_index = 76;  // a 3.14t gives these in its _Py_DebugOffsets; any free slots do here
    l.co_tlbc = 216;
    uint64_t code = heap.object("code", 400);
    heap.target.u64(code + l.co_name, heap.ascii("work"));
    heap.target.u64(code + l.co_qualname, heap.ascii("work"));
    heap.target.u64(code + l.co_filename, heap.ascii("t.py"));
    heap.target.i32(code + l.co_firstlineno, 10);
    // Two one-unit entries without columns: line 10, then line 11.
    heap.target.u64(code + l.co_linetable, heap.bytes(std::string("\xe8\x00\xe8\x02", 4)));
    heap.target.u64(code + l.var_size, 2);
    uint64_t copy = heap.alloc(64), copies = heap.alloc(64);
    heap.target.u64(copies, 2);  // _PyCodeArray: size, entries[]
    heap.target.u64(copies + 8, code + l.co_code_adaptive);
    heap.target.u64(copies + 16, copy);
    heap.target.u64(code + l.co_tlbc, copies);
    uint64_t frame = heap.alloc(128);
    heap.target.u64(frame + l.fr_code, code);
    heap.target.u64(frame + l.fr_instr, copy + 2);  // second unit of copy 1
    heap.target.i32(frame + l.fr_tlbc_index, 1);
    auto line = [&]() {
        Memory mem(heap.target);
        Objects obj(mem, l);
        FrameWalker walker(mem, obj, l);
        FrameChain chain = walker.walk(frame, false, {});
        REQUIRE(chain.frames.size() == 1);
        return chain.frames[0].line;
    };
    CHECK(line() == 11);
    heap.target.i32(frame + l.fr_tlbc_index, 0);  // copy 0 is co_code_adaptive itself
    heap.target.u64(frame + l.fr_instr, code + l.co_code_adaptive + 2);
    CHECK(line() == 11);
    heap.target.i32(frame + l.fr_tlbc_index, 5);  // past the array: the adaptive code, not garbage
    CHECK(line() == 11);
}
