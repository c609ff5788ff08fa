// A CommandHost over synthetic memory, registers and symbols, for command-language tests.
#pragma once

#include <cstring>
#include <map>
#include <sstream>

#include "command/host.hpp"

namespace snag::command::testing {

class FakeHost : public CommandHost {
public:
    std::map<uint64_t, uint8_t> memory;
    std::map<std::string, uint64_t> registers;
    std::map<std::string, uint64_t> symbols;  // name → start
    std::map<std::string, uint64_t> sizes;    // name → size
    std::map<std::string, HostValue> variables;
    std::vector<std::string> ran;             // host commands run, "name|args"
    int interrupt_after = -1;                 // interrupted() turns true after this many calls
    int interrupt_checks = 0;

    void put_u64(uint64_t addr, uint64_t value) {
        for (int i = 0; i < 8; ++i) memory[addr + i] = static_cast<uint8_t>(value >> (8 * i));
    }
    void put_string(uint64_t addr, const std::string& s) {
        for (size_t i = 0; i <= s.size(); ++i) memory[addr + i] = i < s.size() ? s[i] : 0;
    }

    std::vector<std::string> command_names() override { return {"info threads", "bt"}; }
    std::optional<std::pair<std::string, std::string>> match_command(std::string_view line) override {
        for (std::string name : {"info threads", "bt"})
            if (line.substr(0, name.size()) == name)
                return std::pair{name, std::string(line.substr(std::min(line.size(), name.size() + 1)))};
        return std::nullopt;
    }
    Expected<void> run_command(std::string_view name, std::string_view args, std::ostream& out) override {
        ran.push_back(std::string(name) + "|" + std::string(args));
        out << "ran " << name << "\n";
        return {};
    }
    Expected<std::string> eval_lua(std::string_view code, std::ostream&) override {
        return "lua:" + std::string(code);
    }
    Expected<uint64_t> register_value(std::string_view name) override {
        auto it = registers.find(std::string(name));
        if (it == registers.end()) return fail("no register " + std::string(name));
        return it->second;
    }
    Expected<std::string> read_memory(uint64_t addr, size_t n) override {
        std::string out;
        for (size_t i = 0; i < n; ++i) {
            auto it = memory.find(addr + i);
            if (it == memory.end()) return fail("unreadable");
            out += static_cast<char>(it->second);
        }
        return out;
    }
    Expected<uint64_t> symbol_address(std::string_view name) override {
        auto it = symbols.find(std::string(name));
        if (it == symbols.end()) return fail("no symbol");
        return it->second;
    }
    std::optional<std::string> symbolic_address(uint64_t addr) override {
        for (const auto& [name, start] : symbols) {
            if (addr >= start && addr < start + sizes[name])
                return addr == start ? name : name + "+" + std::to_string(addr - start);
        }
        return std::nullopt;
    }
    std::optional<FunctionBounds> function_bounds(uint64_t addr) override {
        for (const auto& [name, start] : symbols)
            if (addr >= start && addr < start + sizes[name]) return FunctionBounds{name, start, start + sizes[name]};
        return std::nullopt;
    }
    Expected<HostType> resolve_type(std::string_view name) override {
        if (name == "struct point") return HostType{"struct point", HostType::Kind::Struct, 16, ""};
        if (name == "myint") return HostType{"myint", HostType::Kind::Signed, 4, ""};
        return fail("No symbol \"" + std::string(name) + "\" in current context.");
    }
    Expected<HostMember> member(std::string_view type, std::string_view name) override {
        if (type != "struct point") return fail("No struct type named " + std::string(type) + ".");
        if (name == "x") return HostMember{"x", 0, "long", 0, 0};
        if (name == "y") return HostMember{"y", 8, "char *", 0, 0};
        if (name == "flags") return HostMember{"flags", 0, "int", 3, 4};
        return fail("There is no member named " + std::string(name) + ".");
    }
    std::optional<HostValue> convenience(std::string_view name) override {
        auto it = variables.find(std::string(name));
        if (it == variables.end()) return std::nullopt;
        return it->second;
    }
    void set_convenience(std::string_view name, HostValue value) override { variables[std::string(name)] = value; }
    bool interrupted() override { return interrupt_after >= 0 && ++interrupt_checks > interrupt_after; }
};

}  // namespace snag::command::testing
