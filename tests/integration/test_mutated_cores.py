"""Mutated whole cores through the CLI: every run ends with exit 0, 1 or 2 inside the time limit.

The test makes small cores of bundled scenarios (gcore of native_threads, `snag dump` of
py_threads.py under a Python 3.11/3.12; a gcore of the latter is 300 MB, too big to copy per case), then derives N damaged copies, each from its own
seeded random generator, and runs each through one of `bt`, `py-bt --native --locals` and
`analyze`. Mutations: the ELF header (bytes and fields), the program headers (small flips and
extreme values 0, 2^63, 2^64-1), the notes (headers, NT_FILE/NT_AUXV/NT_PRSTATUS words), heap
pages (writable memory: pointers, lengths, all-ones, zero) and truncation at a random offset.

A run fails on a signal (abort, segfault), a sanitizer report, a hang (no exit within
--timeout s) or an exit code other than 0, 1, 2 (or exit 2 without a `snag: ` sentence).
Every failure prints the command that reproduces it (`--only CASE`), which rebuilds that one
damaged core from the same seed and keeps it (--keep DIR).

  test_mutated_cores.py --snag build/snag --cases 500 --seed 1 [--timeout 30] [--report out.json]
"""
import argparse
import collections
import json
import os
import random
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--cases", type=int, default=300)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--timeout", type=float, default=30.0)
p.add_argument("--only", type=int, default=None, help="run only this case number")
p.add_argument("--keep", default=None, help="copy failing damaged cores into this directory")
p.add_argument("--report", default=None, help="write the histogram as JSON here")
p.add_argument("--python", default=None, help="interpreter of the Python scenario")
OPTS, _ = p.parse_known_args(h.ARGS.rest)

SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|"
                       r"terminate called|Segmentation fault|core dumped|Assertion .* failed")
EXTREMES = [0, 1, 1 << 63, (1 << 64) - 1, (1 << 32) - 1, 1 << 32, 0x7fffffffffffffff]
PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_AUXV, NT_FILE = 1, 6, 0x46494c45
COMMANDS = [["bt"], ["py-bt", "--native", "--locals"], ["analyze"]]


# ---------------------------------------------------------------- ELF layout of a core

def phdrs_of(data):
    """[(index, table offset, (type, flags, offset, vaddr, paddr, filesz, memsz, align))]."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 56 > len(data):
            break
        out.append((i, at, struct.unpack_from("<IIQQQQQQ", data, at)))
    return out


def notes_of(data):
    """[(note type, header offset, desc offset, desc size)] of every PT_NOTE segment."""
    notes = []
    for _, _, ph in phdrs_of(data):
        if ph[0] != PT_NOTE:
            continue
        pos, end = ph[2], min(ph[2] + ph[5], len(data))
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            notes.append((ntype, pos, desc, descsz))
            pos = desc + ((descsz + 3) & ~3)
    return notes


def extreme(rng, old, bits=64):
    mask = (1 << bits) - 1
    choice = rng.randrange(6)
    if choice == 0:
        return rng.choice(EXTREMES) & mask
    if choice == 1:
        return old ^ (1 << rng.randrange(bits))           # one bit
    if choice == 2:
        return (old | (rng.randrange(1, 256) << (bits - 8))) & mask  # top byte
    if choice == 3:
        return (old + rng.choice([-4096, -1, 1, 4096, 1 << 20])) & mask
    if choice == 4:
        return rng.getrandbits(bits)
    return (old * rng.choice([2, 16, 1 << 16])) & mask


def put(data, fmt, at, value):
    if 0 <= at and at + struct.calcsize(fmt) <= len(data):
        struct.pack_into(fmt, data, at, value)


# ---------------------------------------------------------------- mutations

def mutate_ehdr(rng, data):
    fields = [("<Q", 0x20, "e_phoff"), ("<Q", 0x28, "e_shoff"), ("<H", 0x36, "e_phentsize"),
              ("<H", 0x38, "e_phnum"), ("<H", 0x3c, "e_shnum"), ("<H", 0x10, "e_type"),
              ("<H", 0x12, "e_machine")]
    if rng.random() < 0.3:
        at = rng.randrange(64)
        data[at] ^= 1 << rng.randrange(8)
        return "ELF header byte %d flipped" % at
    fmt, at, name = rng.choice(fields)
    old, = struct.unpack_from(fmt, data, at)
    new = extreme(rng, old, 8 * struct.calcsize(fmt))
    put(data, fmt, at, new)
    return "%s %#x -> %#x" % (name, old, new)


PHDR_FIELDS = [("<I", 0, "p_type"), ("<I", 4, "p_flags"), ("<Q", 8, "p_offset"), ("<Q", 16, "p_vaddr"),
               ("<Q", 32, "p_filesz"), ("<Q", 40, "p_memsz"), ("<Q", 48, "p_align")]


def mutate_phdrs(rng, data):
    phdrs = phdrs_of(data)
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        i, at, ph = rng.choice(phdrs)
        if rng.random() < 0.5:  # prefer the fields that size things
            fmt, off, name = rng.choice(PHDR_FIELDS[2:6])
        else:
            fmt, off, name = rng.choice(PHDR_FIELDS)
        old, = struct.unpack_from(fmt, data, at + off)
        new = extreme(rng, old, 8 * struct.calcsize(fmt))
        put(data, fmt, at + off, new)
        done.append("phdr %d %s %#x -> %#x" % (i, name, old, new))
    return "; ".join(done)


def mutate_notes(rng, data):
    notes = notes_of(data)
    if not notes:
        return mutate_ehdr(rng, data)
    ntype, head, desc, descsz = rng.choice(notes)
    choice = rng.randrange(4)
    if choice == 0:  # the note header: namesz, descsz, type
        off = rng.choice([0, 4, 8])
        old, = struct.unpack_from("<I", data, head + off)
        new = extreme(rng, old, 32)
        put(data, "<I", head + off, new)
        return "note %#x header word %d %#x -> %#x" % (ntype, off // 4, old, new)
    if descsz < 8:
        data[head] ^= 0xff
        return "note %#x namesz flipped" % ntype
    if choice == 1 and ntype in (NT_FILE, NT_AUXV):  # counts, page size, ranges, auxv values
        word = rng.randrange(min(descsz // 8, 64))
        old, = struct.unpack_from("<Q", data, desc + 8 * word)
        new = extreme(rng, old)
        put(data, "<Q", desc + 8 * word, new)
        return "note %#x desc word %d %#x -> %#x" % (ntype, word, old, new)
    if choice == 2 and ntype == NT_FILE:  # a file name loses its terminator
        names = desc + 16 + 24 * struct.unpack_from("<Q", data, desc)[0]
        if desc < names < desc + descsz:
            end = data.find(b"\0", names, desc + descsz)
            if end > 0:
                data[end] = ord("A")
                return "NT_FILE name terminator at %d removed" % (end - desc)
    at = desc + rng.randrange(descsz)
    for k in range(rng.choice([1, 4, 16])):
        if at + k < len(data):
            data[at + k] = rng.randrange(256)
    return "note %#x desc bytes at %d" % (ntype, at - desc)


def mutate_heap(rng, data):
    """Hostile 8-byte words in writable segments: pointers into them (cycles), huge sizes, -1, 0."""
    segs = [ph for _, _, ph in phdrs_of(data) if ph[0] == PT_LOAD and ph[1] & 2 and ph[5] >= 4096
            and ph[2] + ph[5] <= len(data)]
    if not segs:
        return truncate(rng, data)
    flips = rng.choice([10, 100, 1000, 5000])
    for _ in range(flips):
        _, _, off, vaddr, _, size, _, _ = rng.choice(segs)
        at = off + (rng.randrange(size - 8) & ~7)
        value = rng.choice([vaddr + (rng.randrange(size) & ~7), 1 << 40, (1 << 64) - 1, 0,
                            rng.getrandbits(64), rng.randrange(1 << 31), (1 << 63) - 1])
        struct.pack_into("<Q", data, at, value)
    return "%d heap words" % flips


def truncate(rng, data):
    at = rng.choice([rng.randrange(len(data)), rng.randrange(min(len(data), 1 << 16))])
    del data[at:]
    return "truncated at %d" % at


MUTATORS = [("elf-header", mutate_ehdr, 1), ("program-headers", mutate_phdrs, 3),
            ("notes", mutate_notes, 2), ("heap", mutate_heap, 2), ("truncation", truncate, 1)]


def damage(case, base_data):
    """(kind, description, bytes) of case number `case`: the same every run for one seed."""
    rng = random.Random("%d:%d" % (OPTS.seed, case))
    kinds = [m for m in MUTATORS for _ in range(m[2])]
    kind, fn, _ = rng.choice(kinds)
    data = bytearray(base_data)
    return kind, fn(rng, data), data


# ---------------------------------------------------------------- cores

def make_cores(d):
    """[(name, core path, extra CLI args)]: the undamaged inputs, checked to read cleanly."""
    cores = []
    exe = h.native_threads_exe()
    with h.start_scenario([exe]) as s:
        cores.append(("native-gcore", h.gcore(s.pid, os.path.join(d, "native.core")), ["--exe", exe]))
    interp = OPTS.python or h.core_python()
    if interp:
        with h.py_scenario(interp, "py_threads.py") as s:
            dumped = os.path.join(d, "py-dump.core")
            h.snag("dump", s.pid, "-o", dumped, "--cpu-sample", "0", check=True, timeout=120)
            cores.append(("python-snag-dump", dumped, []))
    else:
        print("note: no Python 3.11/3.12 found; only native cores are mutated", flush=True)
    for name, path, extra in cores:
        r = h.snag("bt", path, *extra, timeout=120)
        h.check(r.returncode == 0, "undamaged %s does not read: %s" % (name, r.stderr[-500:]))
    return cores


# ---------------------------------------------------------------- the run

def run_one(cmd, path, extra):
    argv = [h.SNAG] + cmd + [path] + extra
    start = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=OPTS.timeout)
    except subprocess.TimeoutExpired:
        return "hang", None, "", time.monotonic() - start
    elapsed = time.monotonic() - start
    if r.returncode < 0:
        return "signal %d" % -r.returncode, r.returncode, r.stderr, elapsed
    if SANITIZER.search(r.stderr):
        return "sanitizer", r.returncode, r.stderr, elapsed
    if r.returncode not in (0, 1, 2):
        return "exit %d" % r.returncode, r.returncode, r.stderr, elapsed
    if r.returncode == 2 and not re.search(r"^snag: (?!warning)", r.stderr, re.M):
        return "exit 2 without a sentence", 2, r.stderr, elapsed
    return None, r.returncode, r.stderr, elapsed


@h.case("mutated cores through bt, py-bt and analyze")
def mutated_cores():
    d = h.scratch()
    cores = make_cores(d)
    blobs = {name: open(path, "rb").read() for name, path, _ in cores}
    target = os.path.join(d, "damaged.core")
    hist = collections.Counter()
    per_kind = collections.defaultdict(collections.Counter)
    per_core = collections.defaultdict(collections.Counter)
    failures, slowest = [], (0.0, None)
    cases = [OPTS.only] if OPTS.only is not None else range(OPTS.cases)
    for case in cases:
        name, _, extra = cores[case % len(cores)]
        cmd = COMMANDS[(case // len(cores)) % len(COMMANDS)]
        kind, what, data = damage(case, blobs[name])
        with open(target, "wb") as f:
            f.write(data)
        problem, code, stderr, elapsed = run_one(cmd, target, extra)
        hist["hang" if problem == "hang" else str(code) if not problem else problem] += 1
        per_kind[kind][str(code) if not problem else "fail"] += 1
        per_core[name][str(code) if not problem else "fail"] += 1
        slowest = max(slowest, (elapsed, case))
        if problem:
            repro = "%s %s --snag %s --seed %d --only %d" % (sys.executable, os.path.abspath(__file__),
                                                             h.SNAG, OPTS.seed, case)
            failures.append("case %d (%s, %s: %s) snag %s: %s\n  stderr: %s\n  reproduce: %s"
                            % (case, name, kind, what, " ".join(cmd), problem, stderr[-1200:].strip(), repro))
            print("FAILURE " + failures[-1], flush=True)
            if OPTS.keep:
                os.makedirs(OPTS.keep, exist_ok=True)
                os.replace(target, os.path.join(OPTS.keep, "case-%d.core" % case))
    summary = {"snag": h.SNAG, "seed": OPTS.seed, "cases": len(cases), "timeout_s": OPTS.timeout,
               "exit_codes": dict(hist), "by_mutation": {k: dict(v) for k, v in per_kind.items()},
               "by_core": {k: dict(v) for k, v in per_core.items()},
               "slowest_s": round(slowest[0], 2), "slowest_case": slowest[1], "failures": len(failures)}
    print(json.dumps(summary, indent=1, sort_keys=True), flush=True)
    if OPTS.report:
        with open(OPTS.report, "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
    h.check(not failures, "%d of %d damaged cores crashed, hung or broke the exit-code contract:\n%s"
            % (len(failures), len(cases), "\n".join(failures[:10])))


if __name__ == "__main__":
    h.main()
