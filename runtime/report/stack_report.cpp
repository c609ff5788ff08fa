// Text form of a Stack Trace Collection, close to gdb's `thread apply all bt` and eu-stack.
#include "report/stack_report.hpp"

#include <cinttypes>
#include <cstdio>

namespace snag {
namespace {

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// gdb's frame-line argument list, `print entry-values default`: "(lock=0x7f…, n=n@entry=3,
// m=<optimized out>, m@entry=1)": "x=x@entry=V" when the entry value equals the value.
std::string argument_list(const std::vector<FrameArgument>& args) {
    std::string out = "(";
    for (const auto& a : args) {
        out += (out.size() > 1 ? ", " : "") + a.name + "=";
        if (a.entry_value && *a.entry_value == a.value)
            out += a.name + "@entry=" + a.value;
        else
            out += a.value + (a.entry_value ? ", " + a.name + "@entry=" + *a.entry_value : "");
    }
    return out + ")";
}

std::string thread_header(const ThreadReport& thread) {
    std::string line = "Thread " + std::to_string(thread.tid);
    if (!thread.name.empty()) line += " \"" + thread.name + "\"";
    std::string details;
    if (thread.state != '?' && thread.state != '\0') details = std::string("state ") + thread.state;
    if (thread.cpu_user || thread.cpu_system) {
        char cpu[96];
        std::snprintf(cpu, sizeof cpu, "cpu %.2fs user %.2fs sys", thread.cpu_user.value_or(0),
                      thread.cpu_system.value_or(0));
        details += (details.empty() ? "" : ", ") + std::string(cpu);
    }
    if (!details.empty()) line += " (" + details + ")";
    if (thread.python && !thread.python->status.empty()) line += " [" + thread.python->status + "]";
    return line;
}

std::string native_frame(size_t index, const FrameReport& frame) {
    char head[64];
    std::snprintf(head, sizeof head, "#%-2zu 0x%016" PRIx64 "  ", index, frame.pc);
    std::string line = head;
    line += frame.function.empty() ? "??" : frame.function;
    if (!frame.function.empty() && !frame.inlined && frame.offset) {
        char offset[32];
        std::snprintf(offset, sizeof offset, "+0x%" PRIx64, frame.offset);
        line += offset;
    }
    if (frame.args) line += " " + argument_list(*frame.args);
    if (!frame.module.empty()) line += " (" + basename_of(frame.module) + ")";
    if (!frame.file.empty()) {
        line += " " + frame.file;
        if (frame.line > 0) line += ":" + std::to_string(frame.line);
    }
    if (frame.inlined) line += " [inlined]";
    return line;
}

std::string python_frame(size_t index, const FrameReport& frame) {
    char head[32];
    std::snprintf(head, sizeof head, "#%-2zu ", index);
    std::string line = head;
    line += "[py] " + (frame.function.empty() ? std::string("??") : frame.function);
    if (!frame.file.empty()) {
        line += " (" + frame.file;
        if (frame.line > 0) line += ":" + std::to_string(frame.line);
        line += ")";
    }
    return line;
}

}  // namespace

void print_stacks_text(std::ostream& out, const StackReport& report) {
    bool first = true;
    for (const auto& thread : report.threads) {
        if (!first) out << '\n';
        first = false;
        out << thread_header(thread) << '\n';
        for (size_t i = 0; i < thread.frames.size(); ++i) {
            const FrameReport& frame = thread.frames[i];
            out << (frame.kind == FrameReport::Kind::Python ? python_frame(i, frame)
                                                            : native_frame(i, frame));
            if (!frame.note.empty()) out << "  " << frame.note;
            out << '\n';
            for (const auto& [name, repr] : frame.locals) out << "        " << name << " = " << repr << '\n';
        }
        if (thread.frames.empty() && thread.error.empty()) out << "    (no frames)\n";
        if (!thread.error.empty()) out << "    (" << thread.error << ")\n";
    }
}

}  // namespace snag
