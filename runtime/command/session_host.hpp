// SessionHost: the command language's CommandHost over a snag::Session (Lua stdlib, target).
#pragma once

#include "command/host.hpp"
#include "lua/session.hpp"

namespace snag::command {

class SessionHost final : public CommandHost {
public:
    explicit SessionHost(Session& session) : session_(session) {}

    std::vector<std::string> command_names() override;
    std::optional<std::pair<std::string, std::string>> match_command(std::string_view line) override;
    Expected<void> run_command(std::string_view name, std::string_view args, std::ostream& out) override;
    Expected<std::string> eval_lua(std::string_view code, std::ostream& out) override;
    Expected<uint64_t> register_value(std::string_view name) override;
    Expected<std::string> register_bytes(std::string_view name) override;
    Expected<std::string> read_memory(uint64_t addr, size_t n) override;
    Expected<uint64_t> symbol_address(std::string_view name) override;
    std::optional<Variable> frame_variable(std::string_view name) override;
    std::optional<std::string> typed_text(std::string_view type, uint64_t addr) override;
    std::optional<std::string> symbolic_address(uint64_t addr) override;
    std::optional<FunctionBounds> function_bounds(uint64_t addr) override;
    Expected<HostType> resolve_type(std::string_view name) override;
    Expected<HostMember> member(std::string_view type, std::string_view member) override;
    std::optional<HostValue> convenience(std::string_view name) override;
    void set_convenience(std::string_view name, HostValue value) override;
    bool interrupted() override { return Session::interrupt_requested(); }

private:
    Session& session_;
};

}  // namespace snag::command
