#include "command/session_host.hpp"

#include <cstdlib>

#include "lua/python_cache.hpp"

namespace snag::command {

std::vector<std::string> SessionHost::command_names() {
    std::vector<std::string> names;
    for (const auto& info : session_.commands()) {
        names.push_back(info.name);
        for (const auto& alias : info.aliases) names.push_back(alias);
    }
    return names;
}

std::optional<std::pair<std::string, std::string>> SessionHost::match_command(std::string_view line) {
    return session_.match_command(line);
}

Expected<void> SessionHost::run_command(std::string_view name, std::string_view args, std::ostream& out) {
    return session_.run_command(name, args, out);
}

Expected<std::string> SessionHost::eval_lua(std::string_view code, std::ostream& out) {
    return session_.eval_lua(code, out);
}

Expected<uint64_t> SessionHost::register_value(std::string_view name) { return session_.register_value(name); }
Expected<std::string> SessionHost::register_bytes(std::string_view name) { return session_.register_bytes(name); }

Expected<std::string> SessionHost::read_memory(uint64_t addr, size_t n) { return session_.read_memory(addr, n); }

Expected<uint64_t> SessionHost::symbol_address(std::string_view name) { return session_.symbol_address(name); }

namespace {

// The pointer types gdb's libpython pretty-prints (its pretty_printer_lookup).
bool python_object_pointer(const std::string& pointee) {
    return pointee == "PyObject" || pointee == "PyFrameObject" || pointee == "PyUnicodeObject" ||
           pointee == "wrapperobject";
}

}  // namespace

// Innermost block first, then the arguments: the names gdb's expressions see in this frame.
std::optional<CommandHost::Variable> SessionHost::frame_variable(std::string_view name) {
    int tid = session_.selected_thread();
    if (tid == 0) return std::nullopt;
    for (auto kind : {FrameLocals::Kind::Locals, FrameLocals::Kind::Arguments}) {
        auto vars = session_.frame_locals(tid, session_.selected_frame(), kind);
        if (!vars) return std::nullopt;
        for (const auto& v : *vars) {
            if (v.name != name) continue;
            Variable out{v.value, std::nullopt, v.type, v.address};
            if (v.pointee.empty() || !v.value.starts_with("0x")) return out;
            out.pointer = std::strtoull(v.value.c_str(), nullptr, 16);
            auto cache = *out.pointer && python_object_pointer(v.pointee) ? python_cache(session_)
                                                                          : Expected<PythonCache*>(nullptr);
            if (cache && *cache) out.text = (*cache)->objects->repr(*out.pointer, python::ReprLimits::gdb_libpython());
            // gdb's print names a data pointer's type; char pointers show their string instead.
            else if (v.pointee.find("char") == std::string::npos) out.text = "(" + v.pointee + " *) " + v.value;
            return out;
        }
    }
    return std::nullopt;
}

std::optional<std::string> SessionHost::typed_text(std::string_view type, uint64_t addr) {
    return session_.typed_text(type, addr);
}

std::optional<std::string> SessionHost::symbolic_address(uint64_t addr) {
    auto text = session_.symbolic_address(addr);
    // gdb writes <main> rather than <main+0>.
    if (text && text->size() > 2 && text->ends_with("+0")) text->resize(text->size() - 2);
    return text;
}

std::optional<CommandHost::FunctionBounds> SessionHost::function_bounds(uint64_t addr) {
    auto e = session_.symbols().symbol_extent(addr);
    if (!e || e->size == 0) return std::nullopt;
    return FunctionBounds{e->name, e->start, e->start + e->size};
}

Expected<HostType> SessionHost::resolve_type(std::string_view name) {
    auto t = session_.resolve_type(name);
    if (!t) return std::unexpected(t.error());
    HostType out;
    out.name = t->name;
    // Both enums list the same kinds in the same order.
    static_assert(static_cast<int>(ValueType::Kind::Other) == static_cast<int>(HostType::Kind::Other));
    out.kind = static_cast<HostType::Kind>(static_cast<int>(t->kind));
    out.size = t->size;
    out.pointee = t->pointee;
    return out;
}

Expected<HostMember> SessionHost::member(std::string_view type, std::string_view name) {
    const TypeInfo* t = session_.find_type(type);
    if (!t) return fail("No struct type named " + std::string(type) + ".");
    auto m = t->strip_typedefs().member(name);
    if (!m) return fail("There is no member named " + std::string(name) + ".");
    HostMember out;
    out.name = m->name;
    out.offset = m->offset;
    out.type = m->type ? m->type->name : "void";
    out.bit_size = m->bit_size;
    out.bit_offset = m->bit_offset;
    return out;
}

std::optional<HostValue> SessionHost::convenience(std::string_view name) { return session_.convenience(name); }

void SessionHost::set_convenience(std::string_view name, HostValue value) {
    session_.set_convenience(name, std::move(value));
}

}  // namespace snag::command
