#include "disasm/disassembler.hpp"

#include "base/hex.hpp"

#include <capstone/capstone.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace snag {

namespace {

struct Handle {
    csh h = 0;
    ~Handle() {
        if (h) cs_close(&h);
    }
};

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Capstone writes small numbers in decimal ("$0", "-8(%rbp)"); gdb writes every immediate and
// displacement in hex. Scales inside parentheses ("(%rax,%rbx,8)") stay decimal, as in gdb.
std::string gdb_numbers(std::string_view ops) {
    std::string out;
    int depth = 0;
    for (size_t i = 0; i < ops.size();) {
        char c = ops[i];
        if (c == '(') ++depth;
        if (c == ')') --depth;
        bool starts_number = is_digit(c) && depth == 0 && (i == 0 || !std::isalnum(static_cast<unsigned char>(ops[i - 1])));
        if (!starts_number) {
            // "rax, rbx": no blank after a comma in AT&T, as gdb prints it.
            if (!(c == ' ' && i > 0 && ops[i - 1] == ',')) out += c;
            ++i;
            continue;
        }
        size_t end = i;
        while (end < ops.size() && std::isalnum(static_cast<unsigned char>(ops[end]))) ++end;
        std::string token(ops.substr(i, end - i));
        if (token.rfind("0x", 0) != 0) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "0x%llx", std::stoull(token));
            token = buf;
        }
        out += token;
        i = end;
    }
    return out;
}

// binutils writes an immediate as an unsigned number of the operand's size: $0xffffffff, not $-0x1.
void unsigned_immediates(const cs_x86& x86, std::string& ops) {
    for (uint8_t i = 0; i < x86.op_count; ++i) {
        const cs_x86_op& op = x86.operands[i];
        if (op.type != X86_OP_IMM || op.imm >= 0) continue;
        std::string negative = "$-" + hex(static_cast<uint64_t>(-op.imm));
        size_t at = ops.find(negative);
        if (at == std::string::npos) continue;
        uint64_t mask = op.size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (op.size * 8)) - 1;
        ops.replace(at, negative.size(), "$" + hex(static_cast<uint64_t>(op.imm) & mask));
    }
}

// The memory operand as binutils spells it: a displacement byte that is encoded shows even when it
// is zero ("0x0(%rbp)", "0x0(,%rcx,4)"), and an index always carries its scale ("(%rax,%rax,1)").
void memory_operand(const cs_x86& x86, std::string& ops) {
    const cs_x86_op* mem = nullptr;
    for (uint8_t i = 0; i < x86.op_count; ++i)
        if (x86.operands[i].type == X86_OP_MEM) mem = &x86.operands[i];
    if (!mem || mem->mem.base == X86_REG_RIP) return;
    size_t open = ops.find('(');
    if (open == std::string::npos) return;
    size_t close = ops.find(')', open);
    if (mem->mem.index != X86_REG_INVALID && mem->mem.scale == 1 && close != std::string::npos &&
        std::count(ops.begin() + open, ops.begin() + close, ',') == 1)
        ops.insert(close, ",1");
    int mod = x86.modrm >> 6, rm = x86.modrm & 7;
    bool sib_without_base = mod == 0 && rm == 4 && (x86.sib & 7) == 5;
    bool encoded = mod == 1 || mod == 2 || sib_without_base;
    bool starts_operand = open == 0 || ops[open - 1] == ',' || ops[open - 1] == ':' || ops[open - 1] == '*';
    if (encoded && mem->mem.disp == 0 && starts_operand) ops.insert(open, "0x0");
}

void describe_branch(const cs_insn& insn, Instruction& out) {
    const cs_detail* d = insn.detail;
    if (!d) return;
    bool jump = false;
    for (uint8_t g = 0; g < d->groups_count; ++g) {
        if (d->groups[g] == CS_GRP_CALL) out.is_call = true;
        if (d->groups[g] == CS_GRP_RET) out.is_return = true;
        if (d->groups[g] == CS_GRP_JUMP) jump = true;
    }
    if ((jump || out.is_call) && d->x86.op_count == 1 && d->x86.operands[0].type == X86_OP_IMM)
        out.branch_target = static_cast<uint64_t>(d->x86.operands[0].imm);
    for (uint8_t i = 0; i < d->x86.op_count; ++i) {
        const cs_x86_op& op = d->x86.operands[i];
        if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP)
            out.rip_target = insn.address + insn.size + static_cast<uint64_t>(op.mem.disp);
    }
}

std::string att_operands(const cs_insn& insn) {
    std::string ops = gdb_numbers(insn.op_str);
    if (!insn.detail) return ops;
    unsigned_immediates(insn.detail->x86, ops);
    memory_operand(insn.detail->x86, ops);
    return ops;
}

// binutils leaves the AT&T size suffix out where an operand or the instruction tells the size
// ("mov %rsp,%rbp", "push", "call", "ret"), and keeps it where nothing does ("movl $0x0,-0x4(%rbp)").
// Capstone always writes it: drop it where gdb would.
std::string gdb_mnemonic(csh h, const cs_insn& insn, const Instruction& ins) {
    std::string m = insn.mnemonic, prefix;
    // "lock cmpxchgl": the prefix stays, the instruction loses its suffix like any other.
    if (size_t blank = m.rfind(' '); blank != std::string::npos) {
        prefix = m.substr(0, blank + 1);
        m.erase(0, blank + 1);
    }
    const char* base = cs_insn_name(h, insn.id);
    if (!base || m.size() != std::strlen(base) + 1 || m.compare(0, m.size() - 1, base) != 0) return prefix + m;
    if (!std::strchr("bwlq", m.back())) return prefix + m;
    bool register_operand = false;
    for (uint8_t i = 0; insn.detail && i < insn.detail->x86.op_count; ++i)
        register_operand |= insn.detail->x86.operands[i].type == X86_OP_REG;
    bool stack_or_branch = ins.is_call || ins.is_return || ins.branch_target || insn.id == X86_INS_PUSH ||
                           insn.id == X86_INS_POP || insn.id == X86_INS_LEAVE || insn.id == X86_INS_JMP;
    if (register_operand || stack_or_branch) m.pop_back();
    return prefix + m;
}

// The length of a VEX (c4, c5) or EVEX (62) encoded instruction Capstone 4 cannot decode (glibc's
// *_evex string functions use some: vpcmpeqb into a mask, kmovd), so that what follows still
// decodes in step. 0 when the bytes are no such prefix or too few.
size_t vector_length(const uint8_t* p, size_t left) {
    size_t prefix = p[0] == 0x62 ? 4 : p[0] == 0xc4 ? 3 : p[0] == 0xc5 ? 2 : 0;
    if (prefix == 0 || left < prefix + 2) return 0;
    int map = p[0] == 0xc5 ? 1 : (p[1] & (p[0] == 0x62 ? 7 : 0x1f));
    int opcode = p[prefix], modrm = p[prefix + 1];
    int mod = modrm >> 6, rm = modrm & 7;
    size_t n = prefix + 2;
    if (mod != 3 && rm == 4) {
        if (left <= n) return 0;
        if (mod == 0 && (p[n] & 7) == 5) n += 4;
        ++n;
    }
    if (mod == 1) n += 1;
    if (mod == 2 || (mod == 0 && rm == 5)) n += 4;
    bool imm8 = map == 3 || (map == 1 && ((opcode >= 0x70 && opcode <= 0x73) || opcode == 0xc2 ||
                                         (opcode >= 0xc4 && opcode <= 0xc6)));
    if (imm8) ++n;
    return n <= left ? n : 0;
}

}  // namespace

std::string Instruction::text() const {
    if (operands.empty()) return mnemonic;
    std::string m = mnemonic;
    if (m.size() < 6) m.resize(6, ' ');
    return m + " " + operands;
}

std::string Instruction::hex_bytes() const {
    std::string out;
    char buf[4];
    for (unsigned char c : bytes) {
        std::snprintf(buf, sizeof buf, "%s%02x", out.empty() ? "" : " ", c);
        out += buf;
    }
    return out;
}

Expected<std::vector<Instruction>> disassemble(std::string_view code, uint64_t address, size_t count, Syntax syntax) {
    Handle handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle.h) != CS_ERR_OK) return fail("cannot start the x86-64 disassembler");
    cs_option(handle.h, CS_OPT_SYNTAX, syntax == Syntax::Att ? CS_OPT_SYNTAX_ATT : CS_OPT_SYNTAX_INTEL);
    cs_option(handle.h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn* insn = cs_malloc(handle.h);
    if (!insn) return fail("cannot start the x86-64 disassembler");
    std::vector<Instruction> out;
    auto* p = reinterpret_cast<const uint8_t*>(code.data());
    size_t left = code.size();
    uint64_t pc = address;
    while (left > 0 && (count == 0 || out.size() < count)) {
        Instruction ins;
        if (cs_disasm_iter(handle.h, &p, &left, &pc, insn)) {
            ins.address = insn->address;
            ins.bytes.assign(reinterpret_cast<const char*>(insn->bytes), insn->size);
            describe_branch(*insn, ins);
            ins.mnemonic = syntax == Syntax::Att ? gdb_mnemonic(handle.h, *insn, ins) : std::string(insn->mnemonic);
            ins.operands = syntax == Syntax::Att ? att_operands(*insn) : std::string(insn->op_str);
        } else if (left >= kMaxInstructionBytes) {
            // Bytes that are no instruction: "(bad)", as gdb shows them, one byte long unless they
            // are a vector instruction whose length is known, and go on.
            size_t n = std::max<size_t>(vector_length(p, left), 1);
            ins.address = pc;
            ins.bytes.assign(reinterpret_cast<const char*>(p), n);
            ins.mnemonic = n > 1 ? "(unknown vector instruction)" : "(bad)";
            p += n, left -= n, pc += n;
        } else {
            break;  // an instruction cut off by the end of the bytes read
        }
        out.push_back(std::move(ins));
    }
    cs_free(insn, 1);
    if (out.empty() && !code.empty()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "cannot decode an instruction at 0x%llx", static_cast<unsigned long long>(address));
        return fail(buf);
    }
    return out;
}

}  // namespace snag
