#include "python/asyncio_debug.hpp"

#include <cstring>
#include <unordered_set>

#include "symbols/elf_sections.hpp"

namespace snag::python {
namespace {

constexpr char kSection[] = ".AsyncioDebug";
constexpr char kSymbol[] = "_AsyncioDebug";
constexpr uint64_t kNodeSize = 16;  // struct llist_node {next, prev}

uint64_t field(std::span<const uint8_t> bytes, size_t index) {
    uint64_t v = 0;
    std::memcpy(&v, bytes.data() + 8 * index, 8);
    return v;
}

Expected<AsyncioDebug> read_at(Memory& mem, uint64_t address, std::string found_by) {
    std::string bytes = mem.read_bytes(address, kAsyncioDebugSize);
    auto parsed = parse_asyncio_debug({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    if (!parsed) return fail(parsed.error().message + " (" + found_by + ")");
    parsed->address = address;
    parsed->found_by = std::move(found_by);
    return parsed;
}

}  // namespace

Expected<AsyncioDebug> parse_asyncio_debug(std::span<const uint8_t> bytes) {
    if (bytes.size() < kAsyncioDebugSize)
        return fail("the asyncio debug offsets are " + std::to_string(bytes.size()) + " bytes, not " +
                    std::to_string(kAsyncioDebugSize) + " (a Python before 3.14.0?)");
    AsyncioDebug d;
    uint64_t* fields[] = {&d.task_size, &d.task_name, &d.task_awaited_by, &d.task_is_task,
                          &d.task_awaited_by_is_set, &d.task_coro, &d.task_node,
                          &d.interp_size, &d.interp_tasks_head,
                          &d.thread_size, &d.thread_running_loop, &d.thread_running_task, &d.thread_tasks_head};
    for (size_t i = 0; i < std::size(fields); ++i) *fields[i] = field(bytes, i);
    struct Check {
        const char* name;
        uint64_t offset, width, size;
    };
    const Check checks[] = {
        {"asyncio_task_object.task_name", d.task_name, 8, d.task_size},
        {"asyncio_task_object.task_awaited_by", d.task_awaited_by, 8, d.task_size},
        {"asyncio_task_object.task_is_task", d.task_is_task, 1, d.task_size},
        {"asyncio_task_object.task_awaited_by_is_set", d.task_awaited_by_is_set, 1, d.task_size},
        {"asyncio_task_object.task_coro", d.task_coro, 8, d.task_size},
        {"asyncio_task_object.task_node", d.task_node, kNodeSize, d.task_size},
        {"asyncio_interpreter_state.asyncio_tasks_head", d.interp_tasks_head, kNodeSize, d.interp_size},
        {"asyncio_thread_state.asyncio_running_loop", d.thread_running_loop, 8, d.thread_size},
        {"asyncio_thread_state.asyncio_running_task", d.thread_running_task, 8, d.thread_size},
        {"asyncio_thread_state.asyncio_tasks_head", d.thread_tasks_head, kNodeSize, d.thread_size},
    };
    if (d.task_size < 64 || d.task_size > 4096 || d.thread_size > (1 << 20) || d.interp_size > (1 << 24))
        return fail("the asyncio debug offsets are damaged: implausible structure sizes");
    for (const auto& c : checks)
        if (c.offset < 16 || c.offset + c.width > c.size)
            return fail(std::string("the asyncio debug offsets are damaged: ") + c.name + " = " +
                        std::to_string(c.offset) + " lies outside its " + std::to_string(c.size) +
                        "-byte structure");
    return d;
}

Expected<AsyncioDebug> find_asyncio_debug(Target& target, Symbolizer& symbols) {
    Memory mem(target);
    for (const auto& m : symbols.modules())
        if (auto s = section_named(m, kSection); s && s->size >= kAsyncioDebugSize)
            return read_at(mem, s->address, std::string("section ") + kSection + " of " + m.path);
    if (auto at = symbols.address_of(kSymbol)) return read_at(mem, *at, std::string("symbol ") + kSymbol);
    return fail(std::string("no asyncio debug offsets: no loaded module has a ") + kSection +
                " section (is the _asyncio module loaded, and are the target's files here?) and no " +
                kSymbol + " symbol");
}

LinkedTasks linked_tasks(Memory& mem, const Layout& l, uint64_t interp, const AsyncioDebug& d,
                         size_t max_tasks) {
    LinkedTasks out;
    std::unordered_set<uint64_t> seen;
    // A circular list: head.next → node → … → head; a task is its node minus task_node.
    auto walk = [&](uint64_t head) {
        uint64_t node = mem.ptr(head);
        if (!node) return;  // a thread state that never initialised its list
        while (node != head) {
            if (!node || out.tasks.size() >= max_tasks || !seen.insert(node).second) {
                out.truncated = true;
                return;
            }
            out.tasks.push_back(node - d.task_node);
            node = mem.ptr(node);
        }
    };
    uint64_t ts = mem.ptr(interp + l.is_threads_head);
    std::unordered_set<uint64_t> threads_seen;
    for (int i = 0; ts && i < 100000 && threads_seen.insert(ts).second; ++i, ts = mem.ptr(ts + l.ts_next)) {
        ThreadTasks t;
        t.thread_state = ts;
        t.thread_id = mem.ptr(ts + l.ts_thread_id);
        t.running_loop = mem.ptr(ts + d.thread_running_loop);
        t.running_task = mem.ptr(ts + d.thread_running_task);
        size_t before = out.tasks.size();
        walk(ts + d.thread_tasks_head);
        if (t.running_loop || out.tasks.size() > before) out.threads.push_back(t);
    }
    walk(interp + d.interp_tasks_head);
    return out;
}

}  // namespace snag::python
