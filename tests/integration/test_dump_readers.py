"""Cores that snag writes are cores every tool reads; cores others write, compressed, snag reads.

- `snag dump` of native_threads and of py_threads (Debian python3.11 and the newest pyenv
  Python): gdb shows every thread (by LWP), `eu-stack --core` lists every TID.
- NT_PRSTATUS of snag's dump carries CPU times: the spinning thread has user time > 0 (gdb's
  gcore writes zeros), and every thread's pr_pid is one of the process's TIDs.
- Pages never touched stay holes: the dump takes fewer blocks on disk than its size.
- zstd- and gzip-compressed cores (gcore and snag dump) give the same `snag bt` as uncompressed.
"""
import os
import re
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

NT_PRSTATUS = 1


native_exe = h.native_threads_exe


def dump(pid, path):
    if not h.has_subcommand("dump"):
        raise h.Failure("this snag has no dump subcommand")
    r = h.snag("dump", pid, "-o", path, timeout=300)
    h.check(r.returncode == 0, "snag dump exited %d: %s" % (r.returncode, r.stderr.strip()))
    return path


def notes(core):
    """(type, name, desc) of every note in the core's PT_NOTE segments."""
    out = []
    with open(core, "rb") as f:
        header = f.read(64)
        h.check(header[:4] == b"\x7fELF" and header[4] == 2, "%s is not a 64-bit ELF" % core)
        phoff, = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
        for i in range(phnum):
            p_type, _, p_offset = struct.unpack_from("<IIQ", table, i * phentsize)
            p_filesz, = struct.unpack_from("<Q", table, i * phentsize + 32)
            if p_type != 4:
                continue
            f.seek(p_offset)
            data = f.read(p_filesz)
            pos = 0
            while pos + 12 <= len(data):
                namesz, descsz, n_type = struct.unpack_from("<III", data, pos)
                pos += 12
                name = data[pos:pos + namesz].rstrip(b"\0")
                pos += (namesz + 3) & ~3
                out.append((n_type, name, data[pos:pos + descsz]))
                pos += (descsz + 3) & ~3
    return out


def prstatus(core):
    """{tid: (utime_seconds, stime_seconds)} from the core's NT_PRSTATUS notes."""
    threads = {}
    for n_type, name, desc in notes(core):
        if n_type == NT_PRSTATUS and name == b"CORE" and len(desc) >= 80:
            pid, = struct.unpack_from("<i", desc, 32)
            us, uu, ss, su = struct.unpack_from("<qqqq", desc, 48)
            threads[pid] = (us + uu / 1e6, ss + su / 1e6)
    return threads


def gdb_lwps(core, exe):
    return sorted(t["tid"] for t in h.gdb_bt(core, exe))


def eu_stack_tids(core, exe):
    r = h.run(["eu-stack", "--core", core, "--executable", exe], timeout=300)
    return sorted(int(m) for m in re.findall(r"^TID (\d+):", r.stdout, re.M))


def check_readers(label, core, exe, tids):
    h.check(gdb_lwps(core, exe) == tids, "%s: gdb threads %s, process had %s"
            % (label, gdb_lwps(core, exe), tids))
    h.check(eu_stack_tids(core, exe) == tids, "%s: eu-stack TIDs %s, process had %s"
            % (label, eu_stack_tids(core, exe), tids))


@h.case("gdb and eu-stack read snag's dump of native_threads")
def native_readers():
    with h.start_scenario([native_exe()]) as s:
        tids = h.tasks(s.pid)
        core = dump(s.pid, os.path.join(h.scratch(), "native.core"))
    check_readers("native_threads", core, native_exe(), tids)


def python_for_dump():
    found = [i for i in h.interpreters() if i.label == "debian-3.11"]
    newest = h.interpreters()[-1:] if h.interpreters() else []
    return found + [i for i in newest if i not in found]


@h.case("gdb and eu-stack read snag's dump of py_threads (Debian 3.11, newest pyenv)")
def python_readers():
    interps = python_for_dump()
    if not interps:
        h.skip("no CPython on this machine")
    for interp in interps:
        with h.py_scenario(interp, "py_threads.py") as s:
            tids = h.tasks(s.pid)
            core = dump(s.pid, os.path.join(h.scratch(), "py.core"))
        check_readers("py_threads on %s" % interp.label, core, interp.path, tids)


@h.case("snag dump records CPU times per thread (the spinner has user time)")
def cpu_times():
    with h.start_scenario([native_exe()]) as s:
        spinner = [t["tid"] for t in s.truth["threads"] if t["function"] == "spin_forever"][0]
        h._wait_until(lambda: open("/proc/%d/task/%d/stat" % (s.pid, spinner)).read()
                      .rsplit(")", 1)[1].split()[11] != "0", 10)  # utime ticks > 0
        core = dump(s.pid, os.path.join(h.scratch(), "cpu.core"))
        tids = h.tasks(s.pid)
    times = prstatus(core)
    h.check(sorted(times) == tids, "NT_PRSTATUS TIDs %s, process had %s" % (sorted(times), tids))
    h.check(times[spinner][0] > 0, "spinner %d has user time %s in the dump"
            % (spinner, times[spinner]))


@h.case("snag dump leaves untouched pages as holes")
def sparse_dump():
    with h.start_scenario([native_exe()]) as s:
        core = dump(s.pid, os.path.join(h.scratch(), "sparse.core"))
    st = os.stat(core)
    h.check(st.st_blocks * 512 < st.st_size,
            "dump is %d bytes and takes %d on disk: no holes" % (st.st_size, st.st_blocks * 512))


def compress(core, tool):
    if not shutil.which(tool):
        h.skip("%s is not installed" % tool)
    r = h.run([tool, "-k", "-q", "-f", core], timeout=600)
    out = core + (".zst" if tool == "zstd" else ".gz")
    h.check(r.returncode == 0 and os.path.exists(out), "%s failed: %s" % (tool, r.stderr))
    return out


def functions(stacks):
    return dict((t["tid"], [f.get("function") for f in t["frames"]]) for t in stacks["threads"])


@h.case("zstd and gzip compressed cores give the same bt as uncompressed ones")
def compressed():
    with h.start_scenario([native_exe()]) as s:
        d = h.scratch()
        cores = [h.gcore(s.pid, os.path.join(d, "g.core")),
                 dump(s.pid, os.path.join(d, "s.core"))]
    for core in cores:
        plain = functions(h.snag_json("bt", core, "--exe", native_exe(), "--json"))
        for tool in ("zstd", "gzip"):
            packed = compress(core, tool)
            got = functions(h.snag_json("bt", packed, "--exe", native_exe(), "--json"))
            h.check(got == plain, "%s of %s: %s != %s" % (tool, os.path.basename(core), got, plain))
            os.unlink(packed)


if __name__ == "__main__":
    h.main()
