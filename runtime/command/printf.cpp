#include "command/printf.hpp"

#include <cstdio>
#include <cstring>

#include "command/parser.hpp"

namespace snag::command {

namespace {

struct Conversion {
    std::string spec;    // "%-08lx" as written
    std::string length;  // h hh l ll z j t
    char kind = 0;
};

// Splits "%-8lx" at fmt[i] (just after '%'); returns false when the conversion is malformed.
bool read_conversion(const std::string& fmt, size_t& i, Conversion& c) {
    size_t begin = i - 1;
    while (i < fmt.size() && std::strchr("-+ #0'", fmt[i])) ++i;
    while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) ++i;
    if (i < fmt.size() && fmt[i] == '.') {
        ++i;
        while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) ++i;
    }
    size_t len_begin = i;
    while (i < fmt.size() && std::strchr("hlzjtL", fmt[i])) ++i;
    if (i >= fmt.size()) return false;
    c.length = fmt.substr(len_begin, i - len_begin);
    c.kind = fmt[i++];
    c.spec = fmt.substr(begin, i - begin);
    return true;
}

template <class T>
std::string render(const std::string& spec, T value) {
    int n = std::snprintf(nullptr, 0, spec.c_str(), value);
    std::string out(n > 0 ? n : 0, '\0');
    std::snprintf(out.data(), out.size() + 1, spec.c_str(), value);
    return out;
}

Expected<std::string> string_argument(Evaluator& eval, const Expr& arg) {
    if (arg.kind == Expr::Kind::String) return arg.text;
    auto v = eval.evaluate(arg);
    if (!v) return std::unexpected(v.error());
    uint64_t addr = v->bits;
    if ((v->type->kind == CType::Kind::Unknown || v->type->kind == CType::Kind::Struct) && v->address)
        addr = *v->address;
    else if (!v->type->is_scalar())
        return fail("Value can't be converted to integer.");
    if (addr == 0) return std::string("(null)");
    auto s = eval.read_cstring(addr, 1 << 20);
    if (!s) return fail("Cannot access memory at address 0x" + render("%llx", static_cast<unsigned long long>(addr)));
    return *s;
}

Expected<std::string> convert(Evaluator& eval, const Conversion& c, const Expr& arg) {
    if (c.kind == 's') {
        auto s = string_argument(eval, arg);
        if (!s) return s;
        // Only the flags and width apply to the string itself.
        return render(c.spec.substr(0, c.spec.size() - 1 - c.length.size()) + "s", s->c_str());
    }
    auto v = eval.evaluate(arg);
    if (!v) return std::unexpected(v.error());
    if (v->type->kind == CType::Kind::Unknown)
        return fail("'" + v->symbol + "' has unknown type; cast it to its declared type");
    if (!v->type->is_scalar()) return fail("Value can't be converted to integer.");
    int64_t s = v->as_signed();
    uint64_t u = normalize(*v->type, v->bits);
    bool wide = !c.length.empty() && c.length != "h" && c.length != "hh";
    std::string spec = c.spec;
    switch (c.kind) {
        case 'd':
        case 'i':
            if (wide) return render(spec.substr(0, spec.size() - 1 - c.length.size()) + "lld", static_cast<long long>(s));
            return render(spec, static_cast<int>(s));
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (wide)
                return render(spec.substr(0, spec.size() - 1 - c.length.size()) + "ll" + c.kind,
                              static_cast<unsigned long long>(u));
            return render(spec, static_cast<unsigned>(u));
        case 'c': return render(spec, static_cast<int>(static_cast<unsigned char>(u)));
        case 'p': return render(spec, reinterpret_cast<void*>(u));
    }
    return fail(std::string("Format specifier `") + c.kind + "' not supported in printf");
}

}  // namespace

Expected<std::string> format_printf(Evaluator& eval, std::string_view args) {
    auto parsed = parse_printf(args);
    if (!parsed) return fail(describe(parsed.error(), args));
    const std::string& fmt = (*parsed)[0]->text;
    std::string out;
    size_t next_arg = 1;
    for (size_t i = 0; i < fmt.size();) {
        if (fmt[i] != '%') {
            out += fmt[i++];
            continue;
        }
        if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
            out += '%';
            i += 2;
            continue;
        }
        Conversion c;
        ++i;
        if (!read_conversion(fmt, i, c)) return fail("Bad format string");
        if (next_arg >= parsed->size()) return fail("Missing argument " + std::to_string(next_arg - 1) + " in format string");
        auto piece = convert(eval, c, *(*parsed)[next_arg++]);
        if (!piece) return piece;
        out += *piece;
    }
    if (next_arg < parsed->size()) return fail("Extra arguments at end of format string");
    return out;
}

}  // namespace snag::command
