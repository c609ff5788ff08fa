#include "command/examine.hpp"

#include "base/hex.hpp"
#include "command/disassemble.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace snag::command {

namespace {

uint64_t unit_size(char unit) { return unit == 'b' ? 1 : unit == 'h' ? 2 : unit == 'w' ? 4 : 8; }

// Items per output line, as gdb lays them out.
uint64_t per_line(char format, uint64_t size) {
    if (format == 's') return 1;
    if (format == 'a') return 2;
    return size == 8 ? 2 : size == 4 ? 4 : 8;
}

std::string item(char format, uint64_t size, uint64_t raw, const PrintContext& ctx) {
    char buf[80];
    switch (format) {
        case 'x':
        case 'z':
            std::snprintf(buf, sizeof buf, "0x%0*llx", static_cast<int>(size * 2), static_cast<unsigned long long>(raw));
            return buf;
        case 't': {
            std::string bits;
            for (int i = static_cast<int>(size * 8) - 1; i >= 0; --i) bits += ((raw >> i) & 1) ? '1' : '0';
            return bits;
        }
        case 'd':
            return std::to_string(static_cast<int64_t>(normalize(*types::integer("", size, true), raw)));
        case 'u': return std::to_string(raw);
        case 'o':
            if (raw == 0) return "0";
            std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(raw));
            return buf;
        case 'a': return hex(raw) + symbol_suffix(raw, ctx);
        case 'f': {
            // gdb prints as many digits as the type round-trips: 17 for double, 9 for float.
            if (size == 8) {
                double d;
                std::memcpy(&d, &raw, 8);
                std::snprintf(buf, sizeof buf, "%.17g", d);
            } else if (size == 4) {
                float f;
                std::memcpy(&f, &raw, 4);
                std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
            } else {
                return std::to_string(raw);  // gdb too shows b and h units of /f as integers
            }
            return buf;
        }
        case 'c': {
            auto v = make_value(types::char_(), raw);
            return std::to_string(v.as_signed()) + " " + char_literal(static_cast<unsigned char>(raw));
        }
    }
    return "?";
}

}  // namespace

Expected<uint64_t> expression_address(Evaluator& eval, std::string_view text) {
    auto v = eval.evaluate(text);
    if (!v) return std::unexpected(v.error());
    if ((v->type->kind == CType::Kind::Unknown || v->type->kind == CType::Kind::Struct) && v->address)
        return *v->address;
    if (!v->type->is_scalar()) return fail("Invalid number \"" + std::string(text) + "\".");
    return normalize(*v->type, v->bits) & (v->type->size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (v->type->size * 8)) - 1);
}

namespace {

Expected<void> examine_strings(Evaluator& eval, ExamineState& state, uint64_t count, std::ostream& out) {
    auto ctx = eval.print_context();
    uint64_t addr = state.next;
    for (uint64_t i = 0; i < count; ++i) {
        out << hex(addr) << symbol_suffix(addr, ctx) << ":\t";
        auto s = eval.read_cstring(addr, 200);
        if (!s) {
            state.next = addr;
            return fail("Cannot access memory at address " + hex(addr));
        }
        out << string_literal(*s);
        // gdb stops at 200 characters and marks the string as continuing.
        if (s->size() >= 200) out << "...";
        out << "\n";
        addr += s->size() + (s->size() >= 200 ? 0 : 1);
    }
    state.next = addr;
    return {};
}

}  // namespace

Expected<FormatSpec> parse_format(std::string_view text) {
    FormatSpec spec;
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    // A count past 2^64 is gdb's "Invalid number" too, not an exception out of the REPL.
    if (i > 0 && std::from_chars(text.data(), text.data() + i, spec.count).ec != std::errc())
        return fail(std::string("Invalid number \"") + std::string(text) + "\".");
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (std::strchr("bhwg", c)) spec.unit = c;
        else if (std::strchr("xduotacfsiz", c)) spec.format = c;
        else return fail(std::string("Invalid number \"") + std::string(text) + "\".");
    }
    return spec;
}

Expected<void> examine(Evaluator& eval, ExamineState& state, std::string_view args, std::ostream& out) {
    size_t start = args.find_first_not_of(" \t");
    args = start == std::string_view::npos ? std::string_view() : args.substr(start);
    FormatSpec spec;
    if (!args.empty() && args[0] == '/') {
        size_t end = args.find_first_of(" \t");
        auto parsed = parse_format(args.substr(1, end == std::string_view::npos ? args.npos : end - 1));
        if (!parsed) return std::unexpected(parsed.error());
        spec = *parsed;
        args = end == std::string_view::npos ? std::string_view() : args.substr(end);
    }
    char format = spec.format ? spec.format : state.format;
    char unit = spec.unit ? spec.unit : state.unit;
    if (format == 'a') unit = 'g';
    if (format == 'f' && !spec.unit && unit != 'w') unit = 'g';
    if ((format == 'c' || format == 's') && !spec.unit) unit = 'b';
    state.format = format;
    state.unit = unit;
    if (args.find_first_not_of(" \t") != std::string_view::npos) {
        auto addr = expression_address(eval, args);
        if (!addr) return std::unexpected(addr.error());
        state.next = *addr;
        state.has_next = true;
    } else if (!state.has_next) {
        return fail("Argument required (starting display address).");
    }
    if (spec.count == 0) return {};
    if (format == 's') return examine_strings(eval, state, spec.count, out);
    if (format == 'i') return examine_instructions(eval, state, spec.count, out);

    auto ctx = eval.print_context();
    uint64_t size = unit_size(unit), columns = per_line(format, size);
    uint64_t addr = state.next, last = 0;
    for (uint64_t i = 0; i < spec.count; ++i) {
        if (eval.host().interrupted()) return fail("Quit");
        if (i % columns == 0) {
            if (i) out << "\n";
            out << hex(addr) << symbol_suffix(addr, ctx) << ":";
        }
        out << "\t";
        auto bytes = eval.read(addr, size);
        if (!bytes) {
            state.next = addr;
            out.flush();
            return std::unexpected(bytes.error());
        }
        uint64_t raw = 0;
        std::memcpy(&raw, bytes->data(), size);
        out << item(format, size, raw, ctx);
        last = raw;
        addr += size;
    }
    out << "\n";
    state.next = addr;
    // gdb's $_ is the last address examined and $__ its contents.
    TypePtr unit_type = types::integer("int" + std::to_string(size * 8) + "_t", size, true);
    eval.set_variable("_", make_value(types::pointer_to(unit_type), addr - size));
    eval.set_variable("__", make_value(unit_type, last));
    return {};
}

}  // namespace snag::command
