#include "command/disassemble.hpp"

#include "base/hex.hpp"

#include "disasm/disassembler.hpp"

namespace snag::command {

namespace {

std::optional<uint64_t> current_pc(Evaluator& eval) {
    auto pc = eval.host().register_value("pc");
    return pc ? std::optional(*pc) : std::nullopt;
}

// Up to n bytes from addr: a read that runs off the end of a mapping keeps what can be read
// (reads are all or nothing, so the readable prefix is found by halving the interval).
Expected<std::string> read_code(Evaluator& eval, uint64_t addr, size_t n) {
    auto all = eval.read(addr, n);
    if (all) return all;
    size_t readable = 0, unreadable = n;
    while (unreadable - readable > 1) {
        size_t mid = readable + (unreadable - readable) / 2;
        (eval.read(addr, mid) ? readable : unreadable) = mid;
    }
    return readable ? eval.read(addr, readable) : all;
}

// "call   0x401030 <puts@plt>": a direct branch names where it goes.
std::string instruction_text(const Instruction& ins, const PrintContext& ctx) {
    std::string text = ins.text();
    if (ins.branch_target) text += symbol_suffix(ins.branch_target, ctx);
    if (ins.rip_target) text += "        # " + hex(ins.rip_target) + symbol_suffix(ins.rip_target, ctx);
    return text;
}

Expected<std::vector<Instruction>> decode(Evaluator& eval, uint64_t addr, size_t count) {
    auto code = read_code(eval, addr, count * kMaxInstructionBytes);
    if (!code) return std::unexpected(code.error());
    return disassemble(*code, addr, count);
}

// Splits "A,B" at the top-level comma (not one inside parentheses of an expression).
std::pair<std::string_view, std::string_view> split_range(std::string_view args) {
    int depth = 0;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == '(') ++depth;
        if (args[i] == ')') --depth;
        if (args[i] == ',' && depth == 0) return {args.substr(0, i), args.substr(i + 1)};
    }
    return {args, {}};
}

struct Range {
    uint64_t start = 0, end = 0;
    std::string function;  // set when the range is a whole function
};

Expected<Range> parse_range(Evaluator& eval, std::string_view args) {
    auto [first, second] = split_range(args);
    if (second.find_first_not_of(" \t") != std::string_view::npos) {
        auto start = expression_address(eval, first);
        if (!start) return std::unexpected(start.error());
        size_t plus = second.find_first_not_of(" \t");
        bool relative = second[plus] == '+';
        auto end = expression_address(eval, relative ? second.substr(plus + 1) : second);
        if (!end) return std::unexpected(end.error());
        return Range{*start, relative ? *start + *end : *end, {}};
    }
    uint64_t at = 0;
    if (first.find_first_not_of(" \t") == std::string_view::npos) {
        auto pc = current_pc(eval);
        if (!pc) return fail("No frame selected.");
        at = *pc;
    } else {
        auto addr = expression_address(eval, first);
        if (!addr) return std::unexpected(addr.error());
        at = *addr;
    }
    auto bounds = eval.host().function_bounds(at);
    if (!bounds) return fail("No function contains specified address.");
    return Range{bounds->start, bounds->end, bounds->name};
}

}  // namespace

Expected<void> examine_instructions(Evaluator& eval, ExamineState& state, uint64_t count, std::ostream& out) {
    auto ctx = eval.print_context();
    auto pc = current_pc(eval);
    uint64_t addr = state.next, last = addr;
    while (count > 0) {
        if (eval.host().interrupted()) return fail("Quit");
        auto batch = decode(eval, addr, std::min<uint64_t>(count, 64));
        if (!batch) {
            state.next = addr;
            return std::unexpected(batch.error());
        }
        for (const auto& ins : *batch) {
            out << (pc && *pc == ins.address ? "=> " : "   ") << hex(ins.address) << symbol_suffix(ins.address, ctx)
                << ":\t" << instruction_text(ins, ctx) << "\n";
            last = ins.address;
            addr = ins.address + ins.size();
        }
        count -= batch->size();
    }
    state.next = addr;
    eval.set_variable("_", make_value(types::code_pointer(), last));  // gdb: $_ is a code address after x/i
    return {};
}

Expected<void> disassemble_command(Evaluator& eval, std::string_view args, std::ostream& out) {
    bool raw = false;
    size_t b = args.find_first_not_of(" \t");
    args = b == std::string_view::npos ? std::string_view() : args.substr(b);
    while (args.starts_with("/")) {
        size_t end = args.find_first_of(" \t");
        std::string_view mods = args.substr(1, end == std::string_view::npos ? args.npos : end - 1);
        for (char c : mods) {
            if (c == 'r') raw = true;
            else if (c != 'm' && c != 's') return fail(std::string("Invalid disassembly modifier '") + c + "'.");
        }
        args = end == std::string_view::npos ? std::string_view() : args.substr(end);
        b = args.find_first_not_of(" \t");
        args = b == std::string_view::npos ? std::string_view() : args.substr(b);
    }
    auto range = parse_range(eval, args);
    if (!range) return std::unexpected(range.error());
    if (range->end <= range->start) return {};
    auto ctx = eval.print_context();
    auto pc = current_pc(eval);
    out << "Dump of assembler code " << (range->function.empty() ? "from " + hex(range->start) + " to " + hex(range->end)
                                                                : "for function " + range->function) << ":\n";
    for (uint64_t addr = range->start; addr < range->end;) {
        if (eval.host().interrupted()) return fail("Quit");
        // An instruction that starts before the end is shown whole, as gdb shows it.
        auto code = read_code(eval, addr, std::min<uint64_t>(range->end - addr, 4096) + kMaxInstructionBytes - 1);
        if (!code) return std::unexpected(code.error());
        auto batch = disassemble(*code, addr, 0);
        if (!batch) return std::unexpected(batch.error());
        for (const auto& ins : *batch) {
            if (ins.address >= range->end) break;
            std::string where = range->function.empty() ? symbol_suffix(ins.address, ctx)
                                                        : " <+" + std::to_string(ins.address - range->start) + ">";
            out << (pc && *pc == ins.address ? "=> " : "   ") << hex(ins.address, 16) << where << ":\t"
                << (raw ? ins.hex_bytes() + "\t" : "") << instruction_text(ins, ctx) << "\n";
            addr = ins.address + ins.size();
        }
        if (batch->empty()) break;
    }
    out << "End of assembler dump.\n";
    return {};
}

}  // namespace snag::command
