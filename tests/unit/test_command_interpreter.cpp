// Interpreter over a fake host: print/x/printf/echo/set, user-defined commands and dpp.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "command/interpreter.hpp"
#include "fake_command_host.hpp"

using namespace snag::command;
using snag::command::testing::FakeHost;

namespace {

constexpr uint64_t kStack = 0x7ffe0000;
constexpr uint64_t kMain = 0x401100;
constexpr uint64_t kMessage = 0x404040;

struct Fixture {
    FakeHost host;
    Interpreter interp{host};

    Fixture() {
        host.registers = {{"rip", kMain + 4}, {"rsp", kStack}, {"rbp", kStack + 0x40}, {"rax", uint64_t(-514)},
                          {"eflags", 0x295}};
        host.symbols = {{"main", kMain}, {"message", kMessage}};
        host.sizes = {{"main", 0x40}, {"message", 12}};
        host.put_string(kMessage, "hello world");
        // A stack: a pointer into the stack, a return address, then a small integer.
        host.put_u64(kStack, kStack + 0x10);
        host.put_u64(kStack + 8, kMain + 0x20);
        host.put_u64(kStack + 0x10, kMain + 4);
        host.put_u64(kStack + 0x18, 1);
    }

    std::string run(const std::string& text) {
        std::ostringstream out;
        auto ok = interp.execute(text, out);
        REQUIRE_MESSAGE(ok.has_value(), text << ": " << (ok ? "" : ok.error().message));
        return out.str();
    }
    std::string error(const std::string& text, std::string* output = nullptr) {
        std::ostringstream out;
        auto ok = interp.execute(text, out);
        REQUIRE_FALSE(ok.has_value());
        if (output) *output = out.str();
        return ok.error().message;
    }
};

const char* kDpp =
    "define dpp\n"
    "  set $i = 0\n"
    "  set $p = $arg0\n"
    "  while $i < $arg1\n"
    "    printf \"%p: \", $p\n"
    "    x/ga *(long *)$p\n"
    "    set $i = $i + 1\n"
    "    set $p = $p + 8\n"
    "  end\n"
    "end\n";

}  // namespace

TEST_CASE("print: gdb's value history and C integer types") {
    Fixture f;
    CHECK(f.run("p 1 + 2 * 3") == "$1 = 7\n");
    CHECK(f.run("p/x -1") == "$2 = 0xffffffff\n");
    CHECK(f.run("print $1 * 2") == "$3 = 14\n");
    CHECK(f.run("p $") == "$4 = 14\n");
    CHECK(f.run("p $$2") == "$5 = -1\n");
    CHECK(f.run("p 2147483647 + 1") == "$6 = -2147483648\n");
    CHECK(f.run("p 5000000000") == "$7 = 5000000000\n");
    CHECK(f.run("p 0x80000000") == "$8 = 2147483648\n");
    CHECK(f.run("p 10 / 3") == "$9 = 3\n");
    CHECK(f.run("p 1 << 40") == "$10 = 0\n");
    CHECK(f.run("p (char)65") == "$11 = 65 'A'\n");
    CHECK(f.run("p (unsigned char)300") == "$12 = 44 ','\n");
    CHECK(f.run("p/x (short)-1") == "$13 = 0xffff\n");
    CHECK(f.run("p sizeof(long)") == "$14 = 8\n");
    CHECK(f.run("p/o 8") == "$15 = 010\n");
    CHECK(f.run("p/t 5") == "$16 = 101\n");
    CHECK(f.run("p/c 65") == "$17 = 65 'A'\n");
    CHECK(f.run("p $nothing") == "$18 = void\n");
    CHECK(f.run("p 3 > 2 && 0") == "$19 = 0\n");
    CHECK(f.error("p 10 / 0") == "Division by zero");
    CHECK(f.error("p $99") == "History has not yet reached $99.");
}

TEST_CASE("print: registers as gdb types them") {
    Fixture f;
    CHECK(f.run("p $rip") == "$1 = (void (*)()) 0x401104 <main+4>\n");
    CHECK(f.run("p $pc") == "$2 = (void (*)()) 0x401104 <main+4>\n");
    CHECK(f.run("p $rsp") == "$3 = (void *) 0x7ffe0000\n");
    CHECK(f.run("p/x $sp") == "$4 = 0x7ffe0000\n");
    CHECK(f.run("p $rax") == "$5 = -514\n");
    CHECK(f.run("p $eax") == "$6 = -514\n");
    CHECK(f.run("p $al") == "$7 = -2\n");
    CHECK(f.run("p $eflags") == "$8 = [ CF PF AF SF IF ]\n");
    CHECK(f.run("p $rsp + 8") == "$9 = (void *) 0x7ffe0008\n");
    CHECK(f.run("p (long *)$rsp + 1") == "$10 = (long *) 0x7ffe0008\n");
    CHECK(f.run("p *(long *)$rsp") == "$11 = 2147352592\n");
    CHECK(f.run("p/x *(long *)$rsp") == "$12 = 0x7ffe0010\n");
    CHECK(f.run("p ((long *)$rsp)[3]") == "$13 = 1\n");
    CHECK(f.error("p $rip = 1").find("live control") != std::string::npos);
}

TEST_CASE("print: symbols, char pointers and DWARF types from the host") {
    Fixture f;
    CHECK(f.error("p message") == "'message' has unknown type; cast it to its declared type");
    CHECK(f.run("p &message") == "$1 = (<data variable, no debug info> *) 0x404040 <message>\n");
    CHECK(f.run("p (char *)&message") == "$2 = 0x404040 <message> \"hello world\"\n");
    CHECK(f.run("p (char)message") == "$3 = 104 'h'\n");
    CHECK(f.run("p (struct point *)$rsp") == "$4 = (struct point *) 0x7ffe0000\n");
    CHECK(f.run("p (struct point *)$rsp + 1") == "$5 = (struct point *) 0x7ffe0010\n");
    CHECK(f.run("p sizeof(myint)") == "$6 = 4\n");
    CHECK(f.error("p *(struct point *)$rsp").find("lua target:value") != std::string::npos);
    // Members through DWARF layouts: the fake's struct point is {long x; char *y;} at $rsp.
    CHECK(f.run("p ((struct point *)$rsp)->x") == "$7 = 2147352592\n");
    CHECK(f.run("p (*(struct point *)$rsp).x == ((struct point *)$rsp)->x") == "$8 = 1\n");
    CHECK(f.run("p/x ((struct point *)$rsp)->flags") == "$9 = 0x1\n");
    CHECK(f.error("p ((struct point *)$rsp)->z") == "There is no member named z.");
    CHECK(f.error("p $rsp->x").find("not a structure") != std::string::npos);
    CHECK(f.error("p (*(struct point *)$rsp)->x").find("needs a pointer") != std::string::npos);
    CHECK(f.error("p nosuch") == "No symbol \"nosuch\" in current context.");
    CHECK(f.error("p *(long *)8") == "Cannot access memory at address 0x8");
}

TEST_CASE("set, output, echo, printf") {
    Fixture f;
    CHECK(f.run("set $i = 5").empty());
    CHECK(std::get<int64_t>(f.host.variables["i"]) == 5);
    CHECK(f.run("p $i * 2") == "$1 = 10\n");
    f.host.variables["i"] = int64_t{7};  // changed from Lua
    CHECK(f.run("output $i") == "7");
    CHECK(f.run("output/x 255") == "0xff");
    CHECK(f.run("echo hi\\tthere\\n") == "hi\tthere\n");
    CHECK(f.run("printf \"%p|%p|%d %5lu|%-3x|%c %s %%\\n\", 0, $rsp, -2, 7, 255, 65, &message") ==
          "(nil)|0x7ffe0000|-2     7|ff |A hello world %\n");
    CHECK(f.run("printf \"%s\\n\", \"lit\"") == "lit\n");
    CHECK(f.error("printf \"%d %d\\n\", 1") == "Missing argument 1 in format string");
    CHECK(f.error("printf \"%d\\n\", 1, 2") == "Extra arguments at end of format string");
    CHECK(f.run("set pagination off").empty());
    CHECK(f.error("set $rsp = 1").find("live control") != std::string::npos);
}

TEST_CASE("x: gdb's layout for each format and unit") {
    Fixture f;
    CHECK(f.run("x/4ga $rsp") ==
          "0x7ffe0000:\t0x7ffe0010\t0x401120 <main+32>\n"
          "0x7ffe0010:\t0x401104 <main+4>\t0x1\n");
    CHECK(f.run("x/2xg $rsp") == "0x7ffe0000:\t0x000000007ffe0010\t0x0000000000401120\n");
    CHECK(f.run("p/x $__") == "$1 = 0x401120\n");
    CHECK(f.run("output $_") == "(int64_t *) 0x7ffe0008");
    CHECK(f.run("x/3xw $rsp") == "0x7ffe0000:\t0x7ffe0010\t0x00000000\t0x00401120\n");
    CHECK(f.run("x/2dg $rsp + 16") == "0x7ffe0010:\t4198660\t1\n");
    std::string strings;
    CHECK(f.error("x/2s &message", &strings) == "Cannot access memory at address 0x40404c");
    CHECK(strings == "0x404040 <message>:\t\"hello world\"\n0x40404c:\t");
    CHECK(f.run("x/s &message") == "0x404040 <message>:\t\"hello world\"\n");
    CHECK(f.run("x/3c &message") == "0x404040 <message>:\t104 'h'\t101 'e'\t108 'l'\n");
    CHECK(f.run("x/2xb &message") == "0x404040 <message>:\t0x68\t0x65\n");
    // Without an address x continues where it stopped, with the last format.
    CHECK(f.run("x") == "0x404042 <message+2>:\t0x6c\n");
    CHECK(f.run("x/tb &message") == "0x404040 <message>:\t01101000\n");
    CHECK(f.run("x/ob &message") == "0x404040 <message>:\t0150\n");
    std::string partial;
    CHECK(f.error("x/2xg 0x10", &partial) == "Cannot access memory at address 0x10");
    CHECK(partial == "0x10:\t");
    CHECK(f.error("x/99999999999999999999xg $rsp") == "Invalid number \"99999999999999999999xg\".");
}

TEST_CASE("x/i and disassemble decode x86-64 as gdb prints it, => at $pc") {
    Fixture f;
    constexpr uint64_t kTiny = 0x401200;
    // push %rbp; mov %rsp,%rbp; movl $0x0,-0x4(%rbp); call tiny; pop %rbp; ret
    const unsigned char code[] = {0x55, 0x48, 0x89, 0xe5, 0xc7, 0x45, 0xfc, 0, 0, 0, 0,
                                  0xe8, 0xf0, 0xff, 0xff, 0xff, 0x5d, 0xc3};
    f.host.put_string(kTiny, std::string(reinterpret_cast<const char*>(code), sizeof code));
    f.host.symbols["tiny"] = kTiny;
    f.host.sizes["tiny"] = sizeof code;
    f.host.registers["pc"] = kTiny + 1;
    CHECK(f.run("x/3i tiny") ==
          "   0x401200 <tiny>:\tpush   %rbp\n"
          "=> 0x401201 <tiny+1>:\tmov    %rsp,%rbp\n"
          "   0x401204 <tiny+4>:\tmovl   $0x0,-0x4(%rbp)\n");
    CHECK(f.run("x/2i") == "   0x40120b <tiny+11>:\tcall   0x401200 <tiny>\n   0x401210 <tiny+16>:\tpop    %rbp\n");
    CHECK(f.run("output $_") == "(void (*)()) 0x401210 <tiny+16>");
    CHECK(f.run("disassemble") ==
          "Dump of assembler code for function tiny:\n"
          "   0x0000000000401200 <+0>:\tpush   %rbp\n"
          "=> 0x0000000000401201 <+1>:\tmov    %rsp,%rbp\n"
          "   0x0000000000401204 <+4>:\tmovl   $0x0,-0x4(%rbp)\n"
          "   0x000000000040120b <+11>:\tcall   0x401200 <tiny>\n"
          "   0x0000000000401210 <+16>:\tpop    %rbp\n"
          "   0x0000000000401211 <+17>:\tret\n"
          "End of assembler dump.\n");
    CHECK(f.run("disassemble /r 0x401210,+2") ==
          "Dump of assembler code from 0x401210 to 0x401212:\n"
          "   0x0000000000401210 <tiny+16>:\t5d\tpop    %rbp\n"
          "   0x0000000000401211 <tiny+17>:\tc3\tret\n"
          "End of assembler dump.\n");
    // A range that ends inside an instruction still shows it whole, as gdb does.
    CHECK(f.run("disassemble 0x40120b,+2") ==
          "Dump of assembler code from 0x40120b to 0x40120d:\n"
          "   0x000000000040120b <tiny+11>:\tcall   0x401200 <tiny>\n"
          "End of assembler dump.\n");
    CHECK(f.error("disassemble 0x10") == "No function contains specified address.");
    CHECK(f.error("x/i 0x10") == "Cannot access memory at address 0x10");
}

TEST_CASE("x/f reads doubles and floats") {
    Fixture f;
    double d = 2.5;
    float g = 0.25f;
    uint64_t bits = 0;
    std::memcpy(&bits, &d, 8);
    f.host.put_u64(0x500000, bits);
    uint32_t fbits = 0;
    std::memcpy(&fbits, &g, 4);
    f.host.put_u64(0x500008, fbits);
    CHECK(f.run("x/fg 0x500000") == "0x500000:\t2.5\n");
    CHECK(f.run("x/fw 0x500008") == "0x500008:\t0.25\n");
}

TEST_CASE("dpp prints each address then the word it points at, until memory runs out") {
    Fixture f;
    f.run(kDpp);
    std::string out;
    CHECK(f.error("dpp $rsp 8", &out) == "Cannot access memory at address 0x401120");
    CHECK(out ==
          "0x7ffe0000: 0x7ffe0010:\t0x401104 <main+4>\n"
          "0x7ffe0008: 0x401120 <main+32>:\t");
    f.host.put_u64(kMain + 0x20, 0x99);
    f.host.put_u64(kMain + 4, 0x98);
    CHECK(f.error("dpp $rsp 8", &out) == "Cannot access memory at address 0x1");
    CHECK(out ==
          "0x7ffe0000: 0x7ffe0010:\t0x401104 <main+4>\n"
          "0x7ffe0008: 0x401120 <main+32>:\t0x99\n"
          "0x7ffe0010: 0x401104 <main+4>:\t0x98\n"
          "0x7ffe0018: 0x1:\t");
    CHECK(f.run("dpp $rsp 2") ==
          "0x7ffe0000: 0x7ffe0010:\t0x401104 <main+4>\n"
          "0x7ffe0008: 0x401120 <main+32>:\t0x99\n");
}

TEST_CASE("user-defined commands: $argc, $argN, documentation, help") {
    Fixture f;
    f.run("define args\n  printf \"%d:\", $argc\n  if $argc > 1\n    echo two\\n\n  else\n    echo one\\n\n  end\nend");
    CHECK(f.run("args 1") == "1:one\n");
    CHECK(f.run("args (1 + 2) \"a b\"") == "2:two\n");
    f.run("define show\n  p $arg0 + $arg1\nend");
    CHECK(f.run("show 2 3") == "$1 = 5\n");
    CHECK(f.error("show 2") == "Missing argument 1 in user function.");
    f.run("document show\nAdds two numbers.\nend");
    CHECK(f.run("help show") == "Adds two numbers.\n");
    CHECK(f.run("help user-defined").find("args -- User-defined.\nshow -- Adds two numbers.\n") != std::string::npos);
    CHECK(f.error("document nosuch\nx\nend") == "Undefined command: \"nosuch\".");
    f.run("define forever\n  forever\nend");
    CHECK(f.error("forever") == "Max user call depth exceeded -- command aborted.");
}

TEST_CASE("split_user_args and substitute_args follow gdb") {
    CHECK(split_user_args("  $rsp  8 ") == std::vector<std::string>{"$rsp", "8"});
    CHECK(split_user_args("(1 + 2) 'a b' \"c d\"") == std::vector<std::string>{"(1 + 2)", "'a b'", "\"c d\""});
    CHECK(substitute_args("p $arg0+$arg1 $argc $args $arg1x", {"a", "b"}).value() == "p a+b 2 $args $arg1x");
}

TEST_CASE("while loops stop on Ctrl-C; commands blocks need live control") {
    Fixture f;
    f.host.interrupt_after = 50;
    CHECK(f.error("set $n = 0\nwhile 1\n  set $n = $n + 1\nend") == "Quit");
    f.host.interrupt_after = -1;
    CHECK(f.error("commands 2\n  bt\nend").find("live control") != std::string::npos);
    REQUIRE(f.interp.breakpoint_commands().size() == 1);
    CHECK(f.interp.breakpoint_commands()[0].breakpoint == "2");
}

TEST_CASE("host commands, Lua lines, quit and undefined commands") {
    Fixture f;
    CHECK(f.run("info threads") == "ran info threads\n");
    CHECK(f.host.ran.back() == "info threads|");
    CHECK(f.run("bt full 3") == "ran bt\n");
    CHECK(f.host.ran.back() == "bt|full 3");
    CHECK(f.run("=1+1") == "lua:1+1\n");
    CHECK(f.run("lua print(1)") == "lua:print(1)\n");
    CHECK(f.run("outp 6*7") == "42");
    CHECK(f.run("ec hi\\n") == "hi\n");
    CHECK(f.error("pr 1").find("Undefined command") != std::string::npos);  // print or printf
    CHECK(f.error("frobnicate 3") == "Undefined command: \"frobnicate\".  Try \"help\".");
    CHECK(f.run("echo a\nquit\necho b") == "a");
    CHECK(f.interp.quit_requested());
    CHECK(Interpreter::needs_more_input("define x\n"));
    CHECK_FALSE(Interpreter::needs_more_input("define x\nend\n"));
}

TEST_CASE("source runs a file and stops at the first error, naming FILE:LINE") {
    Fixture f;
    std::string path = "/tmp/snag_test_command_source.gdb";
    {
        std::ofstream file(path);
        file << kDpp << "echo start\\n\np 1\np nosuch\necho never\\n\n";
    }
    std::string out;
    auto message = f.error("source " + path, &out);
    CHECK(message == path + ":13: No symbol \"nosuch\" in current context.");
    CHECK(out == "start\n$1 = 1\n");
    std::remove(path.c_str());
    CHECK(f.error("source /nonexistent/x.gdb") == "/nonexistent/x.gdb: No such file or directory.");
}
