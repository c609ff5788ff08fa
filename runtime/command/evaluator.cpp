#include "command/evaluator.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <cstring>

#include "command/parser.hpp"
#include "command/vector_value.hpp"

namespace snag::command {

namespace {

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// gdb's x86_64 register names: the 64-bit register holding it, width, and byte offset.
struct RegisterView {
    std::string full;
    uint64_t size;
    int shift;
};

std::optional<RegisterView> register_view(const std::string& name) {
    static const std::map<std::string, RegisterView> views = [] {
        std::map<std::string, RegisterView> m;
        const char* legacy[] = {"ax", "bx", "cx", "dx", "si", "di", "bp", "sp"};
        for (const char* r : legacy) {
            std::string full = std::string("r") + r;
            m["e" + std::string(r)] = {full, 4, 0};
            if (std::string(r) != "sp") m[r] = {full, 2, 0};
            std::string low = r[1] == 'x' ? std::string(1, r[0]) + "l" : std::string(r) + "l";
            m[low] = {full, 1, 0};
            if (r[1] == 'x') m[std::string(1, r[0]) + "h"] = {full, 1, 8};
        }
        for (int i = 8; i <= 15; ++i) {
            std::string full = "r" + std::to_string(i);
            m[full + "d"] = {full, 4, 0};
            m[full + "w"] = {full, 2, 0};
            m[full + "l"] = {full, 1, 0};
        }
        return m;
    }();
    if (auto it = views.find(name); it != views.end()) return it->second;
    return std::nullopt;
}

TypePtr register_type(const std::string& name) {
    if (name == "rip" || name == "pc") return types::code_pointer();
    if (name == "rsp" || name == "rbp" || name == "sp" || name == "fp") return types::data_pointer();
    if (name == "eflags") return types::eflags();
    if (name == "cs" || name == "ss" || name == "ds" || name == "es" || name == "fs" || name == "gs")
        return types::int_();
    return types::long_();
}

bool is_full_register(const std::string& name) {
    static const char* names[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
                                  "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags", "cs",
                                  "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "pc", "sp", "fp"};
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

// C's integer promotions and usual arithmetic conversions, for 1/2/4/8-byte integers.
TypePtr promoted(const CType& t) {
    if (t.size < 4 || t.kind == CType::Kind::Char || t.kind == CType::Kind::Bool) return types::int_();
    if (t.size == 4) return t.is_signed ? types::int_() : types::unsigned_int();
    return t.is_signed ? types::long_() : types::unsigned_long();
}

TypePtr common_type(const CType& a, const CType& b) {
    TypePtr pa = promoted(a), pb = promoted(b);
    if (pa->size == 8 || pb->size == 8) {
        bool u = (pa->size == 8 && !pa->is_signed) || (pb->size == 8 && !pb->is_signed);
        return u ? types::unsigned_long() : types::long_();
    }
    return !pa->is_signed || !pb->is_signed ? types::unsigned_int() : types::int_();
}

Value boolean(bool b) { return make_value(types::int_(), b ? 1 : 0); }

uint64_t element_size(const CType& pointer) {
    const CType& t = *pointer.target;
    if (t.kind == CType::Kind::Void || t.kind == CType::Kind::Code || t.size == 0) return 1;
    return t.size;
}

}  // namespace

Expected<Value> Evaluator::evaluate(std::string_view text) {
    auto expr = parse_expression(text);
    if (!expr) return fail(describe(expr.error(), text));
    return evaluate(**expr);
}

Expected<Value> Evaluator::evaluate(const Expr& e) {
    switch (e.kind) {
        case Expr::Kind::Number: {
            // C's rule: int if it fits, else long, else unsigned long (U/L suffixes raise the floor).
            bool fits_int = e.number <= 0x7fffffff && !e.is_long;
            if (fits_int && !e.is_unsigned) return make_value(types::int_(), e.number);
            if (e.number <= 0xffffffff && !e.is_long && e.is_unsigned) return make_value(types::unsigned_int(), e.number);
            if (e.number <= 0x7fffffffffffffff && !e.is_unsigned) return make_value(types::long_(), e.number);
            return make_value(types::unsigned_long(), e.number);
        }
        case Expr::Kind::Char: return make_value(types::char_(), e.number);
        case Expr::Kind::String: return fail("string literals are only supported as printf and echo arguments");
        case Expr::Kind::Variable: return variable_value(e.text.substr(1));
        case Expr::Kind::Symbol: {
            // The selected frame's locals and arguments hide globals, as in gdb.
            if (auto var = host_.frame_variable(e.text)) return frame_value(e.text, *var);
            auto addr = host_.symbol_address(e.text);
            if (!addr) return fail("No symbol \"" + e.text + "\" in current context.");
            Value v;
            v.type = types::unknown();
            v.address = *addr;
            v.symbol = e.text;
            return v;
        }
        case Expr::Kind::Unary: return unary(e);
        case Expr::Kind::Binary: return binary(e);
        case Expr::Kind::Assign: return assign(e);
        case Expr::Kind::Cast: return cast(e);
        case Expr::Kind::SizeOf: {
            auto t = resolve_type(e.text);
            // sizeof(var): the declared type of a variable of the selected frame.
            if (auto var = t ? std::nullopt : host_.frame_variable(e.text); var && !var->type.empty())
                t = resolve_type(var->type);
            if (!t) return std::unexpected(t.error());
            return make_value(types::unsigned_long(), (*t)->size);
        }
        case Expr::Kind::Member: return member(e);
        case Expr::Kind::Index: {
            auto base = evaluate(*e.operands[0]);
            bool lanes = base && is_wide(*base);  // $ymm0.v8_int32[3]: a register's lane
            if (base && !lanes) base = rvalue(*base);
            if (!base) return base;
            auto index = evaluate(*e.operands[1]);
            if (index) index = rvalue(*index);
            if (!index) return index;
            if (lanes) return vector_element(*base, index->as_signed());
            auto ptr = arithmetic("+", *base, *index);
            if (!ptr) return ptr;
            return dereference(*ptr);
        }
    }
    return fail("unsupported expression");
}

// A frame variable of a declared type the evaluator knows, in memory (or a pointer in a
// register): an lvalue for &, ., ->, [] and *, printed as `info locals` prints it.
std::optional<Value> Evaluator::typed_frame_value(const CommandHost::Variable& var) {
    if (var.type.empty()) return std::nullopt;
    auto type = resolve_type(var.type);
    if (!type || (*type)->kind == CType::Kind::Unknown) return std::nullopt;
    if (var.address) {
        auto v = load(*type, *var.address);
        return v ? std::optional(*v) : std::nullopt;
    }
    if (var.pointer && (*type)->is_pointer()) return make_value(*type, *var.pointer);
    return std::nullopt;
}

// A frame variable known only by its text (a register the evaluator has no type for): a number
// or pointer takes part in expressions (p fd + 1, x/2gx ptr); anything else is printed as is.
Value Evaluator::frame_value(const std::string& name, const CommandHost::Variable& var) {
    const std::string& text = var.text;
    if (auto typed = typed_frame_value(var)) {
        typed->symbol = name;
        typed->text = text;
        return *typed;
    }
    Value v;
    if (var.pointer) {
        v = make_value(types::data_pointer(), *var.pointer);
        v.text = text;
        return v;
    }
    const char* start = text.c_str();
    char* end = nullptr;
    bool pointer = text.starts_with("0x");
    errno = 0;
    uint64_t bits = pointer ? std::strtoull(start, &end, 16) : static_cast<uint64_t>(std::strtoll(start, &end, 10));
    bool number = end != start && errno == 0 && (*end == '\0' || (pointer && *end == ' '));
    if (number) v = make_value(pointer ? types::data_pointer() : types::long_(), bits);
    else v.type = types::unknown();
    v.symbol = name;
    v.text = text;
    return v;
}

Expected<Value> Evaluator::rvalue(Value v) {
    if (v.type->kind == CType::Kind::Unknown)
        return fail("'" + v.symbol + "' has unknown type; cast it to its declared type");
    if (v.type->kind == CType::Kind::Array && v.address) return make_value(types::pointer_to(v.type->target), *v.address);
    if (is_wide(v)) return fail("Argument to arithmetic operation not a number or boolean.");
    return v;
}

Expected<Value> Evaluator::variable_value(const std::string& name) {
    // $ and $$N count back from the last history entry; $N counts from the first.
    if (name.empty() || name[0] == '$' || std::isdigit(static_cast<unsigned char>(name[0]))) {
        bool back = name.empty() || name[0] == '$';
        std::string digits = back && !name.empty() ? name.substr(1) : name;
        size_t n = digits.empty() ? (name.empty() ? 0 : 1) : std::stoul(digits);
        if (!back) {
            if (n == 0 || n > history_.size()) return fail("History has not yet reached $" + name + ".");
            return history_[n - 1];
        }
        if (n >= history_.size()) return Value{};
        return history_[history_.size() - 1 - n];
    }
    bool found = false;
    auto reg = register_value(name, found);
    if (found) return reg;
    if (auto v = variable(name)) return *v;
    return Value{};
}

Expected<Value> Evaluator::register_value(const std::string& name, bool& found) {
    std::string full = name;
    uint64_t size = 8;
    int shift = 0;
    if (auto view = register_view(name)) {
        full = view->full;
        size = view->size;
        shift = view->shift;
    } else if (vector_register_slot(name)) {
        found = true;
        auto bytes = host_.register_bytes(name);
        if (!bytes) return std::unexpected(bytes.error());
        return vector_register_value(std::move(*bytes));
    } else if (!is_full_register(name)) {
        return Value{};
    }
    found = true;
    if (full == "pc") full = "rip";
    if (full == "sp") full = "rsp";
    if (full == "fp") full = "rbp";
    auto raw = host_.register_value(full);
    if (!raw) return std::unexpected(raw.error());
    if (size < 8) return make_value(types::integer("int" + std::to_string(size * 8) + "_t", size, true), *raw >> shift);
    return make_value(register_type(name), *raw);
}

std::optional<Value> Evaluator::variable(const std::string& name) {
    auto shared = host_.convenience(name);
    auto it = variables_.find(name);
    if (shared && std::holds_alternative<int64_t>(*shared)) {
        int64_t n = std::get<int64_t>(*shared);
        // Lua may have changed the variable since we set it: its value wins, our type stays if it fits.
        if (it != variables_.end() && it->second.as_signed() == n) return it->second;
        return make_value(types::long_(), static_cast<uint64_t>(n));
    }
    if (it != variables_.end()) return it->second;
    return std::nullopt;
}

std::vector<std::string> Evaluator::variable_names() const {
    std::vector<std::string> out;
    for (const auto& [name, value] : variables_) out.push_back(name);
    return out;
}

void Evaluator::set_variable(const std::string& name, const Value& v) {
    Value stored = v;
    stored.address.reset();
    variables_[name] = stored;
    if (v.type->is_scalar()) host_.set_convenience(name, stored.as_signed());
}

size_t Evaluator::record(const Value& v) {
    history_.push_back(v);
    return history_.size();
}

// "long int [2][3]": an array of 2 arrays of 3 long ints.
Expected<TypePtr> Evaluator::resolve_array(const std::string& name) {
    size_t open = name.find('[');
    auto element = resolve_type(name.substr(0, open));
    if (!element) return element;
    std::vector<uint64_t> counts;
    for (size_t i = open; i < name.size() && name[i] == '[';) {
        size_t close = name.find(']', i);
        if (close == std::string::npos) return fail("A syntax error in type " + name + ".");
        counts.push_back(std::strtoull(name.c_str() + i + 1, nullptr, 10));
        i = close + 1;
    }
    TypePtr t = *element;
    for (auto it = counts.rbegin(); it != counts.rend(); ++it) t = types::array_of(t, *it);
    return t;
}

Expected<TypePtr> Evaluator::resolve_type(const std::string& spelled) {
    std::string name = spelled;
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (!name.empty() && name.back() == ']') return resolve_array(name);
    if (auto t = types::builtin(name)) return *t;
    if (!name.empty() && name.back() == '*') {
        std::string inner = name.substr(0, name.size() - 1);
        while (!inner.empty() && inner.back() == ' ') inner.pop_back();
        auto target = resolve_type(inner);
        if (!target) return target;
        return types::pointer_to(*target);
    }
    auto host_type = host_.resolve_type(name);
    if (!host_type) {
        bool tagged = name.rfind("struct ", 0) == 0 || name.rfind("union ", 0) == 0;
        if (!tagged) return fail("No symbol \"" + name + "\" in current context.");
        auto t = std::make_shared<CType>();
        t->kind = CType::Kind::Struct;
        t->name = name;
        t->size = 0;  // unknown without DWARF: pointers to it still print and compare
        return TypePtr(t);
    }
    auto t = std::make_shared<CType>();
    t->name = host_type->name;
    t->size = host_type->size;
    using K = HostType::Kind;
    switch (host_type->kind) {
        case K::Signed: t->kind = CType::Kind::Integer; t->is_signed = true; break;
        case K::Enum: t->kind = CType::Kind::Integer; t->is_enum = true; break;
        case K::Unsigned: t->kind = CType::Kind::Integer; t->is_signed = false; break;
        case K::Bool: t->kind = CType::Kind::Bool; t->is_signed = false; break;
        case K::Char: t->kind = CType::Kind::Char; break;
        case K::Float: t->kind = CType::Kind::Float; break;
        case K::Void: return types::void_();
        case K::Function: t->kind = CType::Kind::Code; break;
        case K::Pointer: {
            auto target = resolve_type(host_type->pointee);
            return types::pointer_to(target ? *target : types::void_());
        }
        default: t->kind = CType::Kind::Struct; break;
    }
    return TypePtr(t);
}

Expected<std::string> Evaluator::read(uint64_t address, size_t n) {
    auto bytes = host_.read_memory(address, n);
    if (!bytes) return fail("Cannot access memory at address " + hex(address));
    return bytes;
}

std::optional<std::string> Evaluator::read_cstring(uint64_t address, size_t max) {
    std::string out;
    while (out.size() < max) {
        auto byte = host_.read_memory(address + out.size(), 1);
        if (!byte) return out.empty() ? std::nullopt : std::optional(out);
        if ((*byte)[0] == '\0') break;
        out += (*byte)[0];
    }
    return out;
}

Expected<Value> Evaluator::load(TypePtr type, uint64_t address) {
    if (!type->is_scalar()) {
        Value v;
        v.type = type;
        v.address = address;
        return v;
    }
    auto bytes = read(address, type->size);
    if (!bytes) return std::unexpected(bytes.error());
    uint64_t raw = 0;
    std::memcpy(&raw, bytes->data(), std::min<size_t>(type->size, sizeof raw));
    Value v = make_value(type, raw);
    v.address = address;
    return v;
}

PrintContext Evaluator::print_context() {
    PrintContext ctx;
    ctx.symbolic = [this](uint64_t a) { return host_.symbolic_address(a); };
    ctx.read_cstring = [this](uint64_t a) { return read_cstring(a); };
    ctx.typed_text = [this](const std::string& type, uint64_t a) { return host_.typed_text(type, a); };
    return ctx;
}

Expected<Value> Evaluator::dereference(const Value& p) {
    if (!p.type->is_pointer() || p.type->target->kind == CType::Kind::Void)
        return fail("Attempt to take contents of a non-pointer value.");
    if (p.type->target->kind == CType::Kind::Code) return fail("Attempt to take contents of a function pointer.");
    return load(p.type->target, p.bits);
}

// s.field and p->field over DWARF struct layouts; bitfields are extracted from their unit.
Expected<Value> Evaluator::member(const Expr& e) {
    auto base = evaluate(*e.operands[0]);
    if (!base) return base;
    bool arrow = e.text.rfind("->", 0) == 0;
    std::string name = e.text.substr(arrow ? 2 : 1);
    if (!arrow && is_wide(*base)) return vector_member(*base, name);
    Value object = *base;
    if (arrow) {
        if (!base->type->is_pointer()) return fail("The -> operator needs a pointer; use . on " + base->type->name + ".");
        object.type = base->type->target;
        object.address = base->bits;
    }
    if (object.type->kind != CType::Kind::Struct || !object.address)
        return fail("Attempt to extract a component of a value that is not a structure" +
                    std::string(arrow ? " pointer." : "."));
    auto m = host_.member(object.type->name, name);
    if (!m) return std::unexpected(m.error());
    auto type = resolve_type(m->type);
    if (!type) return std::unexpected(type.error());
    auto v = load(*type, *object.address + m->offset);
    if (!v || m->bit_size == 0 || !(*type)->is_scalar()) return v;
    uint64_t bits = (v->bits >> m->bit_offset) & (m->bit_size >= 64 ? ~uint64_t{0} : (uint64_t{1} << m->bit_size) - 1);
    if ((*type)->is_signed && m->bit_size < 64 && ((bits >> (m->bit_size - 1)) & 1)) bits |= ~uint64_t{0} << m->bit_size;
    Value out = make_value(*type, bits);
    out.address = v->address;
    return out;
}

Expected<Value> Evaluator::unary(const Expr& e) {
    auto operand = evaluate(*e.operands[0]);
    if (!operand) return operand;
    if (e.text == "&") {
        if (!operand->address) return fail("Attempt to take address of value not located in memory.");
        if (operand->type->kind == CType::Kind::Unknown) {
            auto t = std::make_shared<CType>();
            t->kind = CType::Kind::Unknown;
            t->name = "<data variable, no debug info>";
            t->size = 0;
            return make_value(types::pointer_to(t), *operand->address);
        }
        return make_value(types::pointer_to(operand->type), *operand->address);
    }
    auto v = rvalue(*operand);
    if (!v) return v;
    if (e.text == "*") return dereference(*v);
    if (e.text == "!") return boolean(!v->is_true());
    if (!v->type->is_scalar() || v->type->is_pointer()) return fail("Argument to arithmetic operation not a number or boolean.");
    TypePtr t = promoted(*v->type);
    uint64_t x = normalize(*v->type, v->bits);
    return make_value(t, e.text == "-" ? ~x + 1 : ~x);
}

Expected<Value> Evaluator::binary(const Expr& e) {
    auto left = evaluate(*e.operands[0]);
    if (!left) return left;
    auto l = rvalue(*left);
    if (!l) return l;
    // && and || short-circuit like C.
    if (e.text == "&&" && !l->is_true()) return boolean(false);
    if (e.text == "||" && l->is_true()) return boolean(true);
    auto right = evaluate(*e.operands[1]);
    if (!right) return right;
    auto r = rvalue(*right);
    if (!r) return r;
    if (e.text == "&&" || e.text == "||") return boolean(r->is_true());
    return arithmetic(e.text, *l, *r);
}

Expected<Value> Evaluator::arithmetic(const std::string& op, Value a, Value b) {
    if (!a.type->is_scalar() || !b.type->is_scalar())
        return fail("Argument to arithmetic operation not a number or boolean.");
    bool pa = a.type->is_pointer(), pb = b.type->is_pointer();
    if ((pa || pb) && (op == "+" || op == "-")) {
        if (pa && pb) {
            if (op == "+") return fail("Cannot add two pointers.");
            return make_value(types::long_(), (a.bits - b.bits) / element_size(*a.type));
        }
        if (pb && op == "-") return fail("Cannot subtract a pointer from an integer.");
        const Value& p = pa ? a : b;
        int64_t n = (pa ? b : a).as_signed();
        uint64_t delta = static_cast<uint64_t>(n) * element_size(*p.type);
        return make_value(p.type, op == "+" ? p.bits + delta : p.bits - delta);
    }
    TypePtr t = pa || pb ? types::unsigned_long() : common_type(*a.type, *b.type);
    uint64_t x = normalize(*t, normalize(*a.type, a.bits)), y = normalize(*t, normalize(*b.type, b.bits));
    bool s = t->is_signed;
    int64_t sx = static_cast<int64_t>(x), sy = static_cast<int64_t>(y);
    if (op == "==") return boolean(x == y);
    if (op == "!=") return boolean(x != y);
    if (op == "<") return boolean(s ? sx < sy : x < y);
    if (op == ">") return boolean(s ? sx > sy : x > y);
    if (op == "<=") return boolean(s ? sx <= sy : x <= y);
    if (op == ">=") return boolean(s ? sx >= sy : x >= y);
    if (op == "+") return make_value(t, x + y);
    if (op == "-") return make_value(t, x - y);
    if (op == "*") return make_value(t, x * y);
    if (op == "&") return make_value(t, x & y);
    if (op == "|") return make_value(t, x | y);
    if (op == "^") return make_value(t, x ^ y);
    if (op == "/" || op == "%") {
        if (normalize(*t, y) == 0) return fail("Division by zero");
        if (s) return make_value(t, static_cast<uint64_t>(op == "/" ? sx / sy : sx % sy));
        return make_value(t, op == "/" ? x / y : x % y);
    }
    if (op == "<<" || op == ">>") {
        // The result has the promoted left type; counts past its width give 0 as gdb does.
        TypePtr lt = promoted(*a.type);
        uint64_t lx = normalize(*lt, a.bits);
        if (y >= lt->size * 8) return make_value(lt, 0);
        if (op == "<<") return make_value(lt, lx << y);
        return make_value(lt, lt->is_signed ? static_cast<uint64_t>(static_cast<int64_t>(lx) >> y) : lx >> y);
    }
    return fail("unknown operator " + op);
}

Expected<Value> Evaluator::assign(const Expr& e) {
    const Expr& target = *e.operands[0];
    auto value = evaluate(*e.operands[1]);
    if (!value) return value;
    auto v = rvalue(*value);
    if (!v) return v;
    if (target.kind != Expr::Kind::Variable)
        return fail("writing target memory is not supported; only $variables can be assigned.");
    std::string name = target.text.substr(1);
    bool is_register = register_view(name) || is_full_register(name) || vector_register_slot(name);
    if (is_register) return fail("writing registers needs a live target with live control (not yet available).");
    if (name.empty() || name[0] == '$' || std::isdigit(static_cast<unsigned char>(name[0])))
        return fail("Left operand of assignment is not a modifiable lvalue.");
    set_variable(name, *v);
    Value result = *v;
    result.address.reset();
    return result;
}

Expected<Value> Evaluator::cast(const Expr& e) {
    auto type = resolve_type(e.text);
    if (!type) return std::unexpected(type.error());
    auto operand = evaluate(*e.operands[0]);
    if (!operand) return operand;
    // A symbol without debug info is read as the type it is cast to, as gdb does.
    if (operand->type->kind == CType::Kind::Unknown && operand->address) return load(*type, *operand->address);
    if (!(*type)->is_scalar()) {
        if ((*type)->kind == CType::Kind::Void) return Value{};
        return fail("Invalid cast to " + (*type)->name + ".");
    }
    if (!operand->type->is_scalar()) return fail("Invalid cast.");
    return make_value(*type, normalize(*operand->type, operand->bits));
}

}  // namespace snag::command
