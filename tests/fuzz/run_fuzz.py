"""Runs one libFuzzer harness for a fixed time over a seed corpus this script makes.

  run_fuzz.py --snag build-asan/snag --harness build-asan/tests/fuzz/fuzz_core_reader --seconds 60

Seeds (made here, never committed): for core_reader, small copies of real cores (gcore of
native_threads, `snag dump` of py_threads.py) with each segment's data cut to its first page;
for python_reader, the memory pages a read of a real Python core touched (the harness's
SNAG_FUZZ_MAKE_SEED mode); for command_parser, the example scripts and every command line of
docs/commands.md; for examine_print, the stack of each thread of a `snag dump` core of
native_threads; for module_reader, the scenarios' executables. libFuzzer runs with a fixed -seed;
a crash, leak, sanitizer report or input that takes longer than -timeout fails the case, and the
input is kept under --artifacts.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--harness", required=True)
p.add_argument("--seconds", type=int, default=60)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--artifacts", default=None, help="where crashing inputs go (default: a temp dir)")
p.add_argument("--corpus", default=None, help="keep and grow the corpus here")
p.add_argument("--missing", default=None, help="the harness could not be built: skip, saying why")
OPTS, _ = p.parse_known_args(h.ARGS.rest)
KIND = os.path.basename(OPTS.harness).replace("fuzz_", "")


def squash_core(src, dst, keep=4096):
    """A copy of core `src` whose PT_LOAD segments keep at most `keep` bytes of data each."""
    data = open(src, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = bytearray(data[:phoff + phentsize * phnum])
    moved = []
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, _, p_offset = struct.unpack_from("<IIQ", data, at)
        p_filesz, = struct.unpack_from("<Q", data, at + 32)
        size = p_filesz if p_type == 4 else min(p_filesz, keep)
        moved.append((at, len(out), size))
        out += data[p_offset:p_offset + size]
    for at, offset, size in moved:
        struct.pack_into("<Q", out, at + 8, offset)
        struct.pack_into("<Q", out, at + 32, size)
    with open(dst, "wb") as f:
        f.write(out)


def stack_seeds(core, d):
    """examine_print seeds: each thread's stack (16 KiB from its $rsp) as {rsp, selectors, bytes}."""
    data = open(core, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, rsps = [], []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 4:
            at, end = p_offset, p_offset + p_filesz
            while at + 12 <= end:
                namesz, descsz, kind = struct.unpack_from("<III", data, at)
                desc = at + 12 + (namesz + 3) // 4 * 4
                if kind == 1 and descsz >= 272:  # NT_PRSTATUS: pr_reg at 112, rsp is its 20th word
                    rsps.append(struct.unpack_from("<Q", data, desc + 112 + 19 * 8)[0])
                at = desc + (descsz + 3) // 4 * 4
    for n, rsp in enumerate(rsps):
        for vaddr, offset, filesz in loads:
            if vaddr <= rsp < vaddr + filesz:
                start = offset + rsp - vaddr
                memory = data[start:min(start + 16384, offset + filesz)]
                with open(os.path.join(d, "stack-%d" % n), "wb") as f:
                    f.write(struct.pack("<Q", rsp) + bytes([n, 1, n, n, 8 * n, 0, 0, 0]) + memory)


def make_seeds(d):
    if KIND == "command_parser":
        scripts = os.path.join(h.SOURCE_DIR, "examples", "scripts")
        for name in sorted(os.listdir(scripts)):
            shutil.copy(os.path.join(scripts, name), os.path.join(d, name))
        with open(os.path.join(h.SOURCE_DIR, "docs", "commands.md")) as f:
            lines = sorted(set(m.group(1) for m in re.finditer(r"`([^`\n]{2,80})`", f.read())))
        for i, line in enumerate(lines):
            with open(os.path.join(d, "doc-%d" % i), "w") as f:
                f.write(line + "\n")
        return
    if KIND == "module_reader":
        for name in ("native_threads", "debug_frame_only", "call_loop", "embedded"):
            path = os.path.join(h.ARGS.bin_dir, name)
            if os.path.exists(path):
                shutil.copy(path, os.path.join(d, name))
        return
    if KIND == "examine_print":
        with h.start_scenario([h.native_threads_exe()]) as s:
            h.snag("dump", s.pid, "-o", os.path.join(d, "full.core"), "--cpu-sample", "0", check=True)
        stack_seeds(os.path.join(d, "full.core"), d)
        os.unlink(os.path.join(d, "full.core"))
        return
    interp = h.core_python()
    if KIND == "python_reader":
        if not interp:
            h.skip("no Python 3.11/3.12 to make a seed from")
        for script in ("py_threads.py", "py_deadlock_rlock.py"):
            with h.py_scenario(interp, script) as s:
                core = os.path.join(d, "scenario.core")
                h.snag("dump", s.pid, "-o", core, "--cpu-sample", "0", check=True)
            r = h.run([OPTS.harness], env=dict(os.environ, SNAG_FUZZ_MAKE_SEED="%s:%s" % (core, os.path.join(d, script))))
            h.check(r.returncode == 0, "seed from %s: %s" % (script, r.stderr[-1000:]))
            os.unlink(core)
        return
    exe = h.native_threads_exe()
    with h.start_scenario([exe]) as s:
        squash_core(h.gcore(s.pid, os.path.join(d, "full.core")), os.path.join(d, "native-gcore"))
        h.snag("dump", s.pid, "-o", os.path.join(d, "full.core"), "--cpu-sample", "0", check=True)
        squash_core(os.path.join(d, "full.core"), os.path.join(d, "native-dump"))
    if interp:
        with h.py_scenario(interp, "py_threads.py") as s:
            h.snag("dump", s.pid, "-o", os.path.join(d, "full.core"), "--cpu-sample", "0", check=True)
            squash_core(os.path.join(d, "full.core"), os.path.join(d, "python-dump"))
    os.unlink(os.path.join(d, "full.core"))


@h.case("libFuzzer %s" % KIND)
def fuzz():
    if OPTS.missing:
        h.skip("%s is not built: %s" % (os.path.basename(OPTS.harness), OPTS.missing))
    h.check(os.access(OPTS.harness, os.X_OK), "%s is not built (configure with -DSNAG_FUZZ=ON)" % OPTS.harness)
    corpus = OPTS.corpus or os.path.join(h.scratch(), "corpus")
    os.makedirs(corpus, exist_ok=True)
    seeds = os.path.join(h.scratch(), "seeds")
    os.makedirs(seeds)
    make_seeds(seeds)
    artifacts = OPTS.artifacts or h.scratch()
    os.makedirs(artifacts, exist_ok=True)
    argv = [OPTS.harness, corpus, seeds, "-seed=%d" % OPTS.seed, "-max_total_time=%d" % OPTS.seconds,
            "-timeout=10", "-rss_limit_mb=2048", "-max_len=1048576", "-print_final_stats=1",
            "-artifact_prefix=%s/" % artifacts.rstrip("/")]
    r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=OPTS.seconds + 600)
    stats = [l for l in r.stderr.splitlines() if l.startswith("stat::") or "DONE" in l]
    print("\n".join(stats), flush=True)
    found = [f for f in os.listdir(artifacts) if re.match(r"(crash|leak|timeout|oom|slow-unit)-", f)]
    h.check(r.returncode == 0 and not found,
            "%s exited %d, artifacts %s:\n%s" % (KIND, r.returncode, found, r.stderr[-4000:]))


if __name__ == "__main__":
    h.main()
