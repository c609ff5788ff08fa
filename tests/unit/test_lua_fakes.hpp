// Test doubles for Lua/Session tests: a Target over in-memory segments with two fake threads, a
// Symbolizer with a few functions and one DWARF-like struct, an Unwinder with fixed frames.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "lua/session.hpp"
#include "symbols/types.hpp"

namespace snag::testing {

std::string snag_source_dir();  // tests/unit/main.cpp: the one object that knows the checkout

class FakeTarget : public Target {
public:
    TargetKind kind_ = TargetKind::Core;
    ProcessInfo process_{4242, 1, 0, "fake", "fake --flag", "/usr/bin/fake"};
    std::vector<Thread> threads_;
    std::vector<Mapping> mappings_;
    std::vector<AuxvEntry> auxv_{{6, 4096}};
    std::vector<std::string> warnings_;
    std::map<uint64_t, std::string> segments;  // start → bytes

    FakeTarget() {
        for (int i = 0; i < 2; ++i) {
            Thread t;
            t.tid = 100 + i;
            t.name = i == 0 ? "main" : "worker";
            t.state = 'S';
            t.has_registers = true;
            t.regs.rip = 0x401005 + 0x100 * i;
            t.regs.rsp = 0x7000 - 0x100 * i;
            t.regs.rbp = 0x7100;
            t.regs.rax = static_cast<unsigned long long>(-512);
            t.regs.eflags = 0x246;
            t.regs.fs_base = i == 0 ? 0x7f0000001000 : 0;
            t.regs.orig_rax = i == 0 ? 232 : static_cast<unsigned long long>(-1);  // main in epoll_wait(7, ...)
            t.regs.rdi = 7;
            threads_.push_back(t);
        }
        std::string data(0x100, '\0');
        uint32_t u32 = 0xdeadbeef;
        std::memcpy(&data[0], &u32, 4);
        data[4] = static_cast<char>(0xff);  // i8 = -1
        std::memcpy(&data[0x10], "hello\0world", 11);
        // struct point {int x; int y; struct point *next;} at 0x1040 → next = 0x1050
        int32_t x = 3, y = -4;
        uint64_t next = 0x1050;
        std::memcpy(&data[0x40], &x, 4);
        std::memcpy(&data[0x44], &y, 4);
        std::memcpy(&data[0x48], &next, 8);
        int32_t x2 = 30;
        std::memcpy(&data[0x50], &x2, 4);
        segments[0x1000] = data;
        mappings_.push_back({0x1000, 0x1100, 0, "rw-p", ""});
        mappings_.push_back({0x400000, 0x500000, 0, "r-xp", "/usr/bin/fake"});
    }

    TargetKind kind() const override { return kind_; }
    const ProcessInfo& process() const override { return process_; }
    const std::vector<Thread>& threads() const override { return threads_; }
    const std::vector<Mapping>& mappings() const override { return mappings_; }
    const std::vector<AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<SignalInfo> signal() const override { return SignalInfo{11, 1, 0, 0x10, 0}; }
    size_t read(uint64_t addr, void* out, size_t len) override {
        for (const auto& [start, bytes] : segments) {
            if (addr < start || addr >= start + bytes.size()) continue;
            size_t n = std::min<size_t>(len, start + bytes.size() - addr);
            std::memcpy(out, bytes.data() + (addr - start), n);
            return n;
        }
        return 0;
    }
    std::string local_path(const std::string& p) const override { return p; }
    const std::vector<std::string>& warnings() const override { return warnings_; }
};

struct FakeFunction {
    std::string name;
    uint64_t start, size;
    std::string file;
    int line;
};

class FakeSymbolizer : public Symbolizer {
public:
    std::vector<Module> modules_;
    std::vector<FakeFunction> functions{
        {"main", 0x401000, 0x100, "/src/fake.c", 10},
        {"worker_loop", 0x401100, 0x100, "/src/fake.c", 40},
        {"start_thread", 0x402000, 0x100, "", 0},
    };
    TypeInfo int_type, point, point_ptr, point_t;

    FakeSymbolizer() {
        Module m;
        m.path = "/usr/bin/fake";
        m.local_path = "/usr/bin/fake";
        m.start = 0x400000;
        m.end = 0x500000;
        m.build_id = "abcdef0123";
        m.recorded_build_id = "abcdef0123";
        modules_.push_back(m);
        int_type.name = "int";
        int_type.kind = TypeKind::Base;
        int_type.size = 4;
        int_type.encoding = BaseEncoding::Signed;
        point.name = "struct point";
        point.kind = TypeKind::Struct;
        point.size = 16;
        point_ptr.name = "struct point *";
        point_ptr.kind = TypeKind::Pointer;
        point_ptr.size = 8;
        point_ptr.target = &point;
        point.members = {{"x", 0, &int_type}, {"y", 4, &int_type}, {"next", 8, &point_ptr}};
        point_t.name = "point_t";
        point_t.kind = TypeKind::Typedef;
        point_t.target = &point;
    }

    const std::vector<Module>& modules() const override { return modules_; }
    const Module* module_at(uint64_t a) const override {
        for (const auto& m : modules_)
            if (a >= m.start && a < m.end) return &m;
        return nullptr;
    }
    std::vector<Symbol> symbolize(uint64_t pc, bool call_site) override {
        uint64_t at = call_site ? pc - 1 : pc;
        for (const auto& f : functions) {
            if (at < f.start || at >= f.start + f.size) continue;
            Symbol s;
            s.function = f.name;
            s.offset = pc - f.start;
            s.module = module_at(pc);
            if (!f.file.empty()) s.source = SourceLocation{f.file, f.line};
            return {s};
        }
        return {Symbol{}};
    }
    std::optional<uint64_t> address_of(std::string_view name) override {
        for (const auto& f : functions)
            if (f.name == name) return f.start;
        return std::nullopt;
    }
    std::vector<uint64_t> addresses_of(std::string_view name) override {
        auto a = address_of(name);
        return a ? std::vector<uint64_t>{*a} : std::vector<uint64_t>{};
    }
    std::optional<std::pair<std::string, uint64_t>> symbol_at(uint64_t a) override {
        for (const auto& f : functions)
            if (a >= f.start && a < f.start + f.size) return std::pair{f.name, a - f.start};
        return std::nullopt;
    }
    const TypeInfo* find_type(std::string_view name) override {
        if (name == "struct point") return &point;
        if (name == "point_t") return &point_t;
        return nullptr;
    }
};

// Thread 100: main ← start_thread; thread 101: worker_loop ← start_thread.
class FakeUnwinder : public Unwinder {
public:
    Target& target;
    explicit FakeUnwinder(Target& t) : target(t) {}
    NativeStack unwind(const Thread& thread, size_t) override {
        NativeStack s;
        s.tid = thread.tid;
        NativeFrame f0;
        f0.pc = thread.regs.rip;
        f0.sp = thread.regs.rsp;
        f0.regs = thread.regs;
        NativeFrame f1;
        f1.pc = 0x402010;
        f1.sp = thread.regs.rsp + 0x40;
        f1.regs.rip = f1.pc;
        f1.regs.rsp = f1.sp;
        f1.regs.rbx = 0x77;
        s.frames = {f0, f1};
        return s;
    }
};

inline SessionOptions test_options() {
    SessionOptions o;
    o.stdlib_dir = snag_source_dir() + "/stdlib";
    o.user_commands = false;
    o.budget.instructions = 50'000'000;
    o.budget.memory_bytes = 64u << 20;
    return o;
}

inline std::unique_ptr<Session> make_session(TargetKind kind = TargetKind::Core,
                                             SessionOptions options = test_options()) {
    auto target = std::make_unique<FakeTarget>();
    target->kind_ = kind;
    auto symbols = std::make_unique<FakeSymbolizer>();
    auto unwinder = std::make_unique<FakeUnwinder>(*target);
    auto s = Session::create(std::move(target), std::move(symbols), std::move(unwinder), options);
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(*s);
}

// Lua code's printed output and value, or "ERROR: message".
inline std::string eval(Session& s, const std::string& code) {
    std::ostringstream out;
    auto r = s.eval_lua(code, out);
    if (!r) return "ERROR: " + r.error().message;
    return out.str() + *r;
}

// A command line's output, followed by "ERROR: message" when it failed.
inline std::string run(Session& s, const std::string& line) {
    std::ostringstream out;
    auto r = s.run_line(line, out);
    return r ? out.str() : out.str() + "ERROR: " + r.error().message;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace snag::testing
