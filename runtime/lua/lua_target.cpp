// The global `target`: what was opened (kind, pid, executable), its threads, mappings, signal,
// and memory reads of every width, C strings and byte search.
#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "disasm/disassembler.hpp"
#include "lua/lua_support.hpp"
#include "target/descriptors.hpp"
#include "target/process_status.hpp"
#include "target/signal_names.hpp"
#include "target/syscalls.hpp"

namespace snag {

namespace {

Target& target_of(lua_State* L) { return SessionAccess::of(L).target(); }

std::string unreadable(uint64_t addr) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "Cannot access memory at address 0x%" PRIx64, addr);
    return buf;
}

// Pushes nil and gdb's message: reads return (nil, err) so scripts can probe memory.
int push_unreadable(lua_State* L, uint64_t addr) {
    lua_pushnil(L);
    push_string(L, unreadable(addr));
    return 2;
}

template <class T>
int read_scalar(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto v = t.read_value<T>(addr);
        if (!v) return push_unreadable(L, addr);
        if constexpr (std::is_floating_point_v<T>) lua_pushnumber(L, static_cast<lua_Number>(*v));
        else lua_pushinteger(L, static_cast<lua_Integer>(*v));
        return 1;
    });
}

int l_read(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    luaL_argcheck(L, n >= 0 && n <= (1 << 30), 3, "size must be between 0 and 1 GiB");
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        std::string bytes(static_cast<size_t>(n), '\0');
        size_t got = t.read(addr, bytes.data(), bytes.size());
        if (got == 0 && n > 0) return push_unreadable(L, addr);
        lua_pushlstring(L, bytes.data(), got);  // a short read returns the readable prefix
        return 1;
    });
}

// target:disassemble(addr [, count]): the instructions at addr, as x/i shows them.
int l_disassemble(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    lua_Integer count = luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, count >= 1 && count <= 4096, 3, "count must be between 1 and 4096");
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        std::string code(static_cast<size_t>(count) * kMaxInstructionBytes, '\0');
        size_t got = s.target().read(addr, code.data(), code.size());
        if (got == 0) return push_unreadable(L, addr);
        auto list = disassemble(std::string_view(code.data(), got), addr, static_cast<size_t>(count));
        if (!list) return std::unexpected(list.error());
        lua_createtable(L, static_cast<int>(list->size()), 0);
        for (size_t i = 0; i < list->size(); ++i) {
            const Instruction& ins = (*list)[i];
            lua_createtable(L, 0, 7);
            lua_pushinteger(L, static_cast<lua_Integer>(ins.address));
            lua_setfield(L, -2, "address");
            lua_pushinteger(L, static_cast<lua_Integer>(ins.size()));
            lua_setfield(L, -2, "size");
            push_string(L, ins.mnemonic);
            lua_setfield(L, -2, "mnemonic");
            push_string(L, ins.operands);
            lua_setfield(L, -2, "operands");
            push_string(L, ins.text());
            lua_setfield(L, -2, "text");
            lua_pushboolean(L, ins.decoded());
            lua_setfield(L, -2, "decoded");
            push_string(L, ins.hex_bytes());
            lua_setfield(L, -2, "bytes");
            if (ins.branch_target) {
                lua_pushinteger(L, static_cast<lua_Integer>(ins.branch_target));
                lua_setfield(L, -2, "target");
            }
            if (auto where = s.symbolic_address(ins.address)) {
                push_string(L, *where);
                lua_setfield(L, -2, "symbol");
            }
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

int l_cstr(lua_State* L) {
    uint64_t addr = check_address(L, 2);
    lua_Integer max = luaL_optinteger(L, 3, 4096);
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto s = t.read_cstring(addr, static_cast<size_t>(std::max<lua_Integer>(max, 0)));
        if (!s) return push_unreadable(L, addr);
        push_string(L, *s);
        return 1;
    });
}

// target:search(start, len, bytes) → address of the first match, or nil.
int l_search(lua_State* L) {
    uint64_t start = check_address(L, 2);
    uint64_t len = check_address(L, 3);
    size_t needle_len = 0;
    const char* needle = luaL_checklstring(L, 4, &needle_len);
    luaL_argcheck(L, needle_len > 0, 4, "empty pattern");
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        constexpr size_t kChunk = 1 << 20;
        std::string window;
        uint64_t pos = start, end = start + len;
        while (pos < end) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, end - pos));
            std::string chunk(want, '\0');
            size_t got = t.read(pos, chunk.data(), want);
            chunk.resize(got);
            // Keep the tail of the previous chunk so matches across the boundary are found.
            uint64_t window_start = pos - window.size();
            window += chunk;
            auto hit = window.find(std::string_view(needle, needle_len));
            if (hit != std::string::npos) {
                push_address(L, window_start + hit);
                return 1;
            }
            if (got < want) {  // unreadable gap: restart after the next page
                window.clear();
                pos = ((pos + got) | 0xfff) + 1;
                continue;
            }
            window = window.substr(window.size() - std::min(window.size(), needle_len - 1));
            pos += got;
        }
        lua_pushnil(L);
        return 1;
    });
}

int l_threads(lua_State* L) {
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& threads = s.target().threads();
        lua_createtable(L, static_cast<int>(threads.size()), 0);
        for (size_t i = 0; i < threads.size(); ++i) {
            push_thread(L, s, threads[i]);
            set_field(L, "num", static_cast<lua_Integer>(i + 1));
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

// target:thread(tid) → the thread, or nil when the target has no such thread.
int l_thread(lua_State* L) {
    int tid = static_cast<int>(luaL_checkinteger(L, 2));
    Session& s = SessionAccess::of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& threads = s.target().threads();
        for (size_t i = 0; i < threads.size(); ++i)
            if (threads[i].tid == tid) {
                push_thread(L, s, threads[i]);
                set_field(L, "num", static_cast<lua_Integer>(i + 1));
                return 1;
            }
        lua_pushnil(L);
        return 1;
    });
}

int l_mappings(lua_State* L) {
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& maps = t.mappings();
        lua_createtable(L, static_cast<int>(maps.size()), 0);
        for (size_t i = 0; i < maps.size(); ++i) {
            const Mapping& m = maps[i];
            lua_createtable(L, 0, 6);
            set_field(L, "start", static_cast<lua_Integer>(m.start));
            set_field(L, "stop", static_cast<lua_Integer>(m.end));
            set_field(L, "size", static_cast<lua_Integer>(m.end - m.start));
            set_field(L, "offset", static_cast<lua_Integer>(m.file_offset));
            set_field(L, "perms", m.perms);
            set_field(L, "path", m.path);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

// What only some signals carry: SIGSYS's system call (seccomp), SIGCHLD's child, a memory
// error's address granularity, a protection key.
void push_signal_details(lua_State* L, const Target& t) {
    auto info = raw_siginfo(t);
    if (!info) return;
    if (info->si_signo == SIGSYS) {
        set_field(L, "syscall", info->si_syscall);
        const Syscall* call = syscall_by_number(info->si_syscall);
        set_field(L, "syscall_name", call ? std::string(call->name) : "syscall " + std::to_string(info->si_syscall));
        set_field(L, "arch", static_cast<lua_Integer>(info->si_arch));
        set_field(L, "call_address", static_cast<lua_Integer>(reinterpret_cast<uint64_t>(info->si_call_addr)));
    } else if (info->si_signo == SIGCHLD) {
        set_field(L, "child_pid", info->si_pid);
        set_field(L, "child_status", info->si_status);
    } else if (info->si_signo == SIGBUS && (info->si_code == BUS_MCEERR_AR || info->si_code == BUS_MCEERR_AO)) {
        set_field(L, "addr_lsb", info->si_addr_lsb);
    } else if (info->si_signo == SIGSEGV && info->si_code == SEGV_PKUERR) {
        set_field(L, "pkey", static_cast<lua_Integer>(info->si_pkey));
    }
}

int l_signal(lua_State* L) {
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto sig = t.signal();
        if (!sig) {
            lua_pushnil(L);
            return 1;
        }
        lua_createtable(L, 0, 5);
        set_field(L, "signo", sig->signo);
        set_field(L, "code", sig->code);
        set_field(L, "errno", sig->error);
        set_field(L, "fault_address", static_cast<lua_Integer>(sig->fault_address));
        set_field(L, "sender_pid", sig->sender_pid);
        set_field(L, "sender_uid", signal_sender_uid(t));
        set_field(L, "name", signal_name(sig->signo));
        set_field(L, "code_name", signal_code_name(sig->signo, sig->code));
        push_signal_details(L, t);
        return 1;
    });
}

// target:psinfo() → {state, zombie, pid, ppid, pgrp, sid, uid, gid, nice, flags, fname, psargs}:
// a core's NT_PRPSINFO, a live process's /proc; nil when unknown.
int l_psinfo(lua_State* L) {
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        auto ps = process_status(t);
        if (!ps) {
            lua_pushnil(L);
            return 1;
        }
        lua_createtable(L, 0, 12);
        set_field(L, "state", std::string_view(&ps->state, 1));
        set_bool(L, "zombie", ps->zombie);
        set_field(L, "pid", ps->pid);
        set_field(L, "ppid", ps->ppid);
        set_field(L, "pgrp", ps->pgrp);
        set_field(L, "sid", ps->sid);
        set_field(L, "uid", ps->uid);
        set_field(L, "gid", ps->gid);
        set_field(L, "nice", ps->nice);
        set_field(L, "flags", static_cast<lua_Integer>(ps->flags));
        set_field(L, "fname", ps->fname);
        set_field(L, "psargs", ps->psargs);
        return 1;
    });
}

void push_socket(lua_State* L, const proc::SocketInfo& s) {
    lua_createtable(L, 0, 5);
    set_field(L, "protocol", s.protocol);
    set_field(L, "state", s.state);
    set_field(L, "local", s.local);
    set_field(L, "remote", s.remote);
    set_field(L, "queue", static_cast<lua_Integer>(s.queue));
    set_bool(L, "listening", s.state == "listen");
}

// Live: /proc now; cores: what snag dump recorded in its paratext note (other cores: empty).
int l_fds(lua_State* L) {
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        std::vector<proc::Descriptor> fds;
        if (t.kind() == TargetKind::Process) fds = proc::read_descriptors(t.process().pid);
        else if (auto note = t.paratext()) fds = proc::descriptors_from_paratext(*note);
        lua_createtable(L, static_cast<int>(fds.size()), 0);
        for (size_t i = 0; i < fds.size(); ++i) {
            const auto& fd = fds[i];
            lua_createtable(L, 0, 5);
            set_field(L, "fd", fd.fd);
            set_field(L, "target", fd.target);
            set_field(L, "kind", fd.kind);
            if (fd.socket) {
                push_socket(L, *fd.socket);
                lua_setfield(L, -2, "socket");
            }
            if (!fd.watches.empty()) {
                lua_createtable(L, static_cast<int>(fd.watches.size()), 0);
                for (size_t w = 0; w < fd.watches.size(); ++w) {
                    lua_pushinteger(L, fd.watches[w]);
                    lua_rawseti(L, -2, static_cast<lua_Integer>(w + 1));
                }
                lua_setfield(L, -2, "watches");
            }
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

int l_auxv(lua_State* L) {
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        lua_newtable(L);
        for (const auto& e : t.auxv()) {
            lua_pushinteger(L, static_cast<lua_Integer>(e.value));
            lua_rawseti(L, -2, static_cast<lua_Integer>(e.type));
        }
        return 1;
    });
}

int l_warnings(lua_State* L) {
    Target& t = target_of(L);
    return guard(L, [&]() -> Expected<int> {
        const auto& w = t.warnings();
        lua_createtable(L, static_cast<int>(w.size()), 0);
        for (size_t i = 0; i < w.size(); ++i) {
            push_string(L, w[i]);
            lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
        }
        return 1;
    });
}

// target:file(path): where a file the target sees (a source file, a module) is on this machine,
// through /proc/PID/root live or --sysroot for cores; nil when it is not there.
int l_file(lua_State* L) {
    Target& t = target_of(L);
    std::string path = luaL_checkstring(L, 2);
    return guard(L, [&]() -> Expected<int> {
        std::string local = t.local_path(path);
        if (local.empty()) lua_pushnil(L);
        else push_string(L, local);
        return 1;
    });
}

const luaL_Reg kTargetMethods[] = {
    {"file", l_file},
    {"read", l_read},
    {"u8", read_scalar<uint8_t>},   {"u16", read_scalar<uint16_t>},
    {"u32", read_scalar<uint32_t>}, {"u64", read_scalar<uint64_t>},
    {"i8", read_scalar<int8_t>},    {"i16", read_scalar<int16_t>},
    {"i32", read_scalar<int32_t>},  {"i64", read_scalar<int64_t>},
    {"f32", read_scalar<float>},    {"f64", read_scalar<double>},
    {"ptr", read_scalar<uint64_t>},
    {"cstr", l_cstr},
    {"disassemble", l_disassemble},
    {"search", l_search},
    {"threads", l_threads},
    {"thread", l_thread},
    {"mappings", l_mappings},
    {"signal", l_signal},
    {"psinfo", l_psinfo},
    {"fds", l_fds},
    {"auxv", l_auxv},
    {"warnings", l_warnings},
    {nullptr, nullptr},
};

}  // namespace

void bind_target(lua_State* L, Session& session) {
    luaL_newmetatable(L, "snag.Target");
    luaL_setfuncs(L, kTargetMethods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    const ProcessInfo& p = session.target().process();
    lua_createtable(L, 0, 8);
    set_field(L, "kind", session.target().kind() == TargetKind::Core ? "core" : "process");
    set_field(L, "pid", p.pid);
    set_field(L, "ppid", p.ppid);
    set_field(L, "uid", p.uid);
    set_field(L, "name", p.name);
    set_field(L, "cmdline", p.cmdline);
    set_field(L, "executable", p.executable);
    if (p.namespace_pid) set_field(L, "namespace_pid", p.namespace_pid);
    luaL_setmetatable(L, "snag.Target");
    lua_setglobal(L, "target");
}

}  // namespace snag
