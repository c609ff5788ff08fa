"""Bad input never crashes snag: exit 2 and one clear line on stderr.

Inputs: a missing file, an empty file, a text file, a non-core ELF (/bin/true), a gcore core cut
at several offsets (ELF header, program headers, notes, memory, the last byte), the same core
with e_machine patched to AArch64, the same core with one thread's stack trampled (every other
thread exactly as before, a "stack incomplete" warning for that one), a vanished PID, a PID that is not a number-like target, and
for `snag dump` a vanished PID and an unwritable output path. Labelled "asan": in the ASan
build dir this runs that build's snag, and any sanitizer report fails the case.
"""
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

EXE = h.ARGS.native_threads or h.scenario_bin("native_threads")

SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|Segmentation fault|core dumped")
EM_AARCH64 = 183


def expect_clean_error(args, mention=None, timeout=120):
    r = h.snag(*args, timeout=timeout)
    what = "snag %s" % " ".join(map(str, args))
    h.check(r.returncode >= 0, "%s died of signal %d: %s" % (what, -r.returncode, r.stderr[-1500:]))
    h.check(not SANITIZER.search(r.stderr), "%s: sanitizer report:\n%s" % (what, r.stderr[-3000:]))
    h.check(r.returncode == 2, "%s exited %d, expected 2; stderr: %s"
            % (what, r.returncode, r.stderr[-1500:]))
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if not l.startswith("snag: warning")]
    h.check(len(errors) == 1 and errors[0].startswith("snag: "),
            "%s: expected one 'snag: ...' error line, got: %r" % (what, lines[:10]))
    h.check(len(errors[0]) > len("snag: ") + 10, "%s: message too terse: %r" % (what, errors[0]))
    if mention:
        h.check(re.search(mention, errors[0], re.I),
                "%s: message %r does not mention /%s/" % (what, errors[0], mention))
    return errors[0]


_core = []


def real_core():
    """A gcore core of native_threads, made once."""
    if not _core:
        if not EXE or not os.access(EXE, os.X_OK):
            h.skip("native_threads scenario binary not built")
        with h.start_scenario([EXE]) as s:
            _core.append(h.gcore(s.pid, os.path.join(h.scratch(), "good.core")))
    return _core[0]


def elf_layout(path):
    """(e_phoff, e_phnum, [(p_type, p_offset, p_filesz)]) of a 64-bit little-endian ELF."""
    with open(path, "rb") as f:
        header = f.read(64)
        phoff, = struct.unpack_from("<Q", header, 32)
        phentsize, phnum = struct.unpack_from("<HH", header, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    phdrs = []
    for i in range(phnum):
        p_type, _, p_offset = struct.unpack_from("<IIQ", table, i * phentsize)
        p_filesz, = struct.unpack_from("<Q", table, i * phentsize + 32)
        phdrs.append((p_type, p_offset, p_filesz))
    return phoff, phnum, phdrs


def cut_offsets(path):
    phoff, phnum, phdrs = elf_layout(path)
    size = os.path.getsize(path)
    notes = [p for p in phdrs if p[0] == 4]  # PT_NOTE
    loads = [p for p in phdrs if p[0] == 1 and p[2] > 0]  # PT_LOAD with file contents
    offsets = {
        "in the ELF identification": 10,
        "in the ELF header": 40,
        "in the program headers": phoff + 56 + 20,
        "right after the program headers": phoff + 56 * phnum,
    }
    if notes:
        offsets["in the notes"] = notes[0][1] + notes[0][2] // 2
    if loads:
        offsets["in the first memory segment"] = loads[0][1] + min(loads[0][2] // 2, 4096)
        offsets["in the last memory segment"] = loads[-1][1] + loads[-1][2] // 2
    # gcore puts section headers after the data; nothing needs them, so cut inside the data.
    end = max(p[1] + p[2] for p in phdrs if p[0] in (1, 4))
    offsets["half of the segment data"] = min(size, end) // 2
    offsets["one byte short of the last segment's end"] = end - 1
    return sorted(offsets.items(), key=lambda kv: kv[1])


def copy_prefix(src, dst, length):
    with open(src, "rb") as i, open(dst, "wb") as o:
        left = length
        while left > 0:
            chunk = i.read(min(left, 1 << 20))
            if not chunk:
                break
            o.write(chunk)
            left -= len(chunk)
    return dst


@h.case("bt on a missing file")
def missing_file():
    expect_clean_error(["bt", "/nonexistent/dir/core.123"])


@h.case("bt on an empty file")
def empty_file():
    path = os.path.join(h.scratch(), "empty.core")
    open(path, "w").close()
    expect_clean_error(["bt", path])


@h.case("bt on a text file")
def text_file():
    path = os.path.join(h.scratch(), "notes.txt")
    with open(path, "w") as f:
        f.write("this is not a core file\n" * 100)
    expect_clean_error(["bt", path])


@h.case("bt on a non-core ELF (/bin/true)")
def non_core_elf():
    expect_clean_error(["bt", os.path.realpath("/bin/true")], mention=r"core")


@h.case("bt on a core cut at several offsets")
def truncated_cores():
    core = real_core()
    d = h.scratch()
    for where, offset in cut_offsets(core):
        cut = copy_prefix(core, os.path.join(d, "cut-%d.core" % offset), offset)
        try:
            expect_clean_error(["bt", cut, "--exe", EXE])
        except AssertionError as e:
            raise h.Failure("cut %s (offset %d): %s" % (where, offset, e))
        os.unlink(cut)


@h.case("bt on a core of another architecture (e_machine = AArch64)")
def other_arch():
    core = real_core()
    path = os.path.join(h.scratch(), "aarch64.core")
    with open(core, "rb") as i, open(path, "wb") as o:
        head = bytearray(i.read(64))
        struct.pack_into("<H", head, 18, EM_AARCH64)
        o.write(head)
        while True:
            chunk = i.read(1 << 20)
            if not chunk:
                break
            o.write(chunk)
    expect_clean_error(["bt", path], mention=r"arch|machine|aarch64|x86")


def bt_threads(stdout, exact=False):
    """{tid: [frame lines without addresses]} of `snag bt` text output; exact: every line as printed."""
    threads, current = {}, None
    for line in stdout.splitlines():
        m = re.match(r"Thread (\d+)", line)
        if m:
            current = threads.setdefault(int(m.group(1)), [])
        if current is not None and exact and line.strip():
            current.append(line)
        elif current is not None and line.startswith("#"):
            current.append(re.sub(r"0x[0-9a-f]+", "ADDR", line))
    return threads


def notes(data, phoff, phnum):
    """(n_type, desc offset, desc size) of every note in a core's bytes."""
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + 56 * i)
        pos = p_offset
        while p_type == 4 and pos + 12 <= p_offset + p_filesz:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            yield ntype, desc, descsz
            pos = desc + ((descsz + 3) & ~3)


def auxv_entry(data, phoff, phnum, wanted):
    """The value of auxv entry `wanted` from the NT_AUXV note of a core's bytes, or None."""
    for ntype, desc, descsz in notes(data, phoff, phnum):
        for at in range(desc, desc + descsz - 15, 16) if ntype == 6 else ():
            kind, value = struct.unpack_from("<QQ", data, at)
            if kind == wanted:
                return value
    return None


def expect_partial(args, original, warning):
    """Exit 0, a `snag: warning:` line matching `warning`, and every thread of `original` exactly."""
    r = h.snag(*args, timeout=120)
    what = "snag %s" % " ".join(map(str, args))
    h.check(r.returncode == 0 and not SANITIZER.search(r.stderr),
            "%s exited %d: %s" % (what, r.returncode, r.stderr[-1500:]))
    h.check(re.search(r"^snag: warning: .*" + warning, r.stderr, re.M | re.I),
            "%s: no warning /%s/: %s" % (what, warning, r.stderr[-1500:]))
    got = bt_threads(r.stdout)
    h.check(got == original, "%s: stacks differ from the undamaged core:\n%s\n---\n%s"
            % (what, r.stdout[-2000:], original))


@h.case("bt on a core whose anonymous segment is stretched over the vDSO (p_memsz top byte)")
def stretched_segment():
    core = real_core()
    original = bt_threads(h.snag("bt", core, "--exe", EXE, check=True).stdout)
    data = bytearray(open(core, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    loads = []
    for i in range(phnum):
        p_type, p_flags, _, p_vaddr, _, _, p_memsz = struct.unpack_from("<IIQQQQQ", data, phoff + 56 * i)
        if p_type == 1:
            loads.append((p_vaddr, phoff + 56 * i, p_memsz))
    loads.sort()
    vdso = auxv_entry(data, phoff, phnum, 33)  # AT_SYSINFO_EHDR: the vDSO's address
    h.check(vdso and any(v == vdso for v, _, _ in loads), "no segment at AT_SYSINFO_EHDR in %s" % core)
    below = [l for l in loads if l[0] < vdso][-1]
    struct.pack_into("<Q", data, below[1] + 40, below[2] | (0x7f << 56))
    path = os.path.join(h.scratch(), "stretched.core")
    open(path, "wb").write(data)
    for sub in (["bt"], ["analyze"]):
        r = h.snag(*sub, path, "--exe", EXE, timeout=120)
        h.check(r.returncode in (0, 1) and not SANITIZER.search(r.stderr),
                "snag %s exited %d: %s" % (sub[0], r.returncode, r.stderr[-1500:]))
    expect_partial(["bt", path, "--exe", EXE], original, r"damaged: .*segment")


def thread_rsp(data, phoff, phnum, tid):
    """(rsp, file offset of the stack bytes at rsp) of thread `tid` in a core's bytes."""
    rsp = None
    for ntype, desc, _ in notes(data, phoff, phnum):
        if ntype == 1 and struct.unpack_from("<i", data, desc + 32)[0] == tid:  # NT_PRSTATUS pr_pid
            rsp, = struct.unpack_from("<Q", data, desc + 112 + 19 * 8)  # pr_reg's rsp
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + 56 * i)
        if p_type == 1 and rsp is not None and p_vaddr <= rsp < p_vaddr + p_filesz:
            return rsp, p_offset + rsp - p_vaddr
    raise h.Failure("no stack bytes for thread %d in the core" % tid)


@h.case("bt on a core with one thread's stack damaged: the others exactly, a warning for that one")
def damaged_stack():
    core = real_core()
    original = bt_threads(h.snag("bt", core, "--exe", EXE, check=True).stdout, exact=True)
    deep = [tid for tid, lines in original.items() if sum(" recurse" in l for l in lines) >= 20]
    h.check(len(deep) == 1, "no single thread 50 deep in recurse: %s" % list(original))
    tid = deep[0]
    data = bytearray(open(core, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    rsp, at = thread_rsp(data, phoff, phnum, tid)
    # Saved registers and return addresses from a few frames up are overwritten: a trampled stack.
    data[at + 512:at + 1536] = b"\xa5" * 1024
    path = os.path.join(h.scratch(), "damaged-stack.core")
    open(path, "wb").write(data)
    r = h.snag("bt", path, "--exe", EXE, timeout=120)
    h.check(r.returncode == 0 and not SANITIZER.search(r.stderr), "exit %d: %s" % (r.returncode, r.stderr[-1500:]))
    h.check(re.search(r"^snag: warning: thread %d: stack incomplete at 0x[0-9a-f]+: " % tid, r.stderr, re.M),
            "no 'thread %d: stack incomplete' warning: %s" % (tid, r.stderr[-1500:]))
    got = bt_threads(r.stdout, exact=True)
    h.check(got.keys() == original.keys(), "threads differ: %s vs %s" % (list(got), list(original)))
    for other in original:
        if other != tid:
            h.check(got[other] == original[other], "thread %d differs from the undamaged core:\n%s\n---\n%s"
                    % (other, "\n".join(got[other]), "\n".join(original[other])))
    frames = [l for l in got[tid] if l.startswith("#")]
    same = next((i for i, (a, b) in enumerate(zip(got[tid], original[tid])) if a != b), len(got[tid]))
    h.check(same >= 4 and len(frames) < sum(l.startswith("#") for l in original[tid]),
            "damaged thread %d: %d leading lines as before, %d frames:\n%s" % (tid, same, len(frames), "\n".join(got[tid])))
    print("  thread %d (rsp %#x): %d frames shown, then the warning" % (tid, rsp, len(frames)))


@h.case("bt --allow-truncated on a core cut in its memory: a warning saying how much, every stack")
def allow_truncated():
    core = os.path.join(h.scratch(), "dumped.core")  # snag dump writes its notes first: cut after them
    with h.start_scenario([EXE]) as s:
        h.snag("dump", s.pid, "-o", core, "--cpu-sample", "0", check=True)
    _, _, phdrs = elf_layout(core)
    end = max(p[1] + p[2] for p in phdrs if p[0] in (1, 4))
    cut = copy_prefix(core, os.path.join(h.scratch(), "cut.core"), end - 4096)
    message = expect_clean_error(["bt", cut, "--exe", EXE], mention=r"4096 bytes missing.*--allow-truncated")
    r = h.snag("bt", cut, "--exe", EXE, "--allow-truncated")
    h.check(r.returncode == 0 and re.search(r"^snag: warning: .*truncated.*4096 bytes missing", r.stderr, re.M),
            "exit %d: %s (error was %s)" % (r.returncode, r.stderr[-1500:], message))
    whole = bt_threads(h.snag("bt", core, "--exe", EXE, check=True).stdout)
    h.check(bt_threads(r.stdout).keys() == whole.keys(), "threads of the truncated core: %s" % r.stdout[-1500:])


@h.case("bt on a vanished PID")
def vanished_pid():
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    h.check(not os.path.exists("/proc/%d" % p.pid), "PID %d was reused" % p.pid)
    expect_clean_error(["bt", str(p.pid)])


@h.case("bt with no target and with an unknown option")
def usage_errors():
    expect_clean_error(["bt"])
    expect_clean_error(["bt", "--no-such-option", "/nonexistent"])


@h.case("dump of a vanished PID and to an unwritable path")
def dump_errors():
    if not h.has_subcommand("dump"):
        raise h.Failure("this snag has no dump subcommand")
    p = subprocess.Popen(["/bin/true"])
    p.wait()
    out = os.path.join(h.scratch(), "x.core")
    expect_clean_error(["dump", str(p.pid), "-o", out])
    h.check(not os.path.exists(out) or os.path.getsize(out) == 0,
            "dump of a vanished PID left a core behind")
    if not EXE:
        return
    with h.start_scenario([EXE]) as s:
        expect_clean_error(["dump", str(s.pid), "-o", "/nonexistent/dir/x.core"])
        h.check(s.alive(), "scenario died after a failed dump")


if __name__ == "__main__":
    h.main()
