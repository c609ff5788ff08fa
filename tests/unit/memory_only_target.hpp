// Test double base: a core with no process facts, threads, mappings, auxv, signal or warnings;
// subclasses supply read() over memory the test writes (synthetic Python heaps and GC rings).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "target/target.hpp"

namespace snag::test {

class MemoryOnlyTarget : public Target {
public:
    TargetKind kind() const override { return TargetKind::Core; }
    const ProcessInfo& process() const override { return process_; }
    const std::vector<Thread>& threads() const override { return threads_; }
    const std::vector<Mapping>& mappings() const override { return mappings_; }
    const std::vector<AuxvEntry>& auxv() const override { return auxv_; }
    std::optional<SignalInfo> signal() const override { return std::nullopt; }
    std::string local_path(const std::string&) const override { return ""; }
    const std::vector<std::string>& warnings() const override { return warnings_; }

private:
    ProcessInfo process_;
    std::vector<Thread> threads_;
    std::vector<Mapping> mappings_;
    std::vector<AuxvEntry> auxv_;
    std::vector<std::string> warnings_;
};

}  // namespace snag::test
