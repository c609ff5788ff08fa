"""Unwinding code described by .debug_frame only (examples/scenarios/debug_frame_only).

The scenario is built without unwind tables and without frame pointers: .eh_frame has no entry
for inner_a, middle_b, outer_c or main, and the rbp chain is garbage. libunwind alone stops
after inner_a; snag's .debug_frame fallback must walk the whole chain.

- The binary really has no .eh_frame FDE for the chain (else this test proves nothing).
- Live `snag bt`, and on a gcore core and a `snag dump` core: pause <- inner_a <- middle_b <-
  outer_c <- main, none of them marked as a frame-pointer guess.
- The same functions, frame for frame, as gdb's bt on the same core.
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

_opts = argparse.ArgumentParser()
_opts.add_argument("--debug-frame-only", default=None)
OPTS = _opts.parse_args(h.ARGS.rest)
EXE = OPTS.debug_frame_only or h.scenario_bin("debug_frame_only")

CHAIN = ["inner_a", "middle_b", "outer_c", "main"]


def exe():
    if not EXE or not os.access(EXE, os.X_OK):
        h.skip("debug_frame_only scenario binary not built")
    return EXE


def fde_ranges(section):
    out = subprocess.run(["readelf", "--debug-dump=frames", exe()], capture_output=True, text=True).stdout
    ranges, current = [], None
    for line in out.splitlines():
        if line.startswith("Contents of the "):
            current = line.split()[3]
        m = re.search(r"FDE cie=\w+ pc=([0-9a-f]+)\.\.([0-9a-f]+)", line)
        if m and current == section:
            ranges.append((int(m.group(1), 16), int(m.group(2), 16)))
    return ranges


def symbol_addresses():
    out = subprocess.run(["nm", exe()], capture_output=True, text=True).stdout
    return dict((parts[2], int(parts[0], 16)) for parts in (l.split() for l in out.splitlines())
                if len(parts) == 3 and parts[2] in CHAIN)


def check_chain(label, stacks):
    h.check(len(stacks["threads"]) == 1, "%s: %d threads" % (label, len(stacks["threads"])))
    frames = stacks["threads"][0]["frames"]
    names = [f["function"] for f in frames]
    h.check("inner_a" in names, "%s: no inner_a in %s" % (label, names))
    start = names.index("inner_a")
    h.check(names[start:start + len(CHAIN)] == CHAIN,
            "%s: chain %s, expected %s" % (label, names[start:start + len(CHAIN)], CHAIN))
    for f in frames[:start + len(CHAIN)]:
        h.check("frame pointer" not in (f.get("note") or ""),
                "%s: %s found by the frame-pointer guess" % (label, f["function"]))
    h.check(not stacks["threads"][0].get("error"), "%s: walk stopped: %s"
            % (label, stacks["threads"][0].get("error")))
    return names


@h.case("the scenario's chain has .debug_frame entries and no .eh_frame entries")
def no_eh_frame():
    symbols = symbol_addresses()
    h.check(sorted(symbols) == sorted(CHAIN), "symbols %s" % symbols)
    eh, debug = fde_ranges(".eh_frame"), fde_ranges(".debug_frame")
    for name, address in symbols.items():
        h.check(not any(lo <= address < hi for lo, hi in eh), "%s has an .eh_frame FDE" % name)
        h.check(any(lo <= address < hi for lo, hi in debug), "%s has no .debug_frame FDE" % name)


@h.case("live, gcore core and snag dump core: the whole chain, same as gdb's bt")
def chain_everywhere():
    with h.start_scenario([exe()]) as s:
        d = h.scratch()
        live = check_chain("live", h.snag_json("bt", s.pid, "--json"))
        gcore = h.gcore(s.pid, os.path.join(d, "gcore.core"))
        dump = os.path.join(d, "snag.core")
        r = h.snag("dump", s.pid, "-o", dump, timeout=300)
        h.check(r.returncode == 0, "snag dump exited %d: %s" % (r.returncode, r.stderr))
        h.check(s.alive(), "scenario died: %s" % s.output())
        s.stop()
        for label, core in (("gcore", gcore), ("dump", dump)):
            names = check_chain(label, h.snag_json("bt", core, "--exe", exe(), "--json"))
            h.check(names == live, "%s %s != live %s" % (label, names, live))
            gdb = [f["function"] for f in h.gdb_bt(core, exe())[0]["frames"]]
            h.check(gdb[1:1 + len(CHAIN)] == CHAIN, "gdb on %s: %s" % (label, gdb))
            h.check(names[1:1 + len(CHAIN)] == gdb[1:1 + len(CHAIN)],
                    "%s: snag %s vs gdb %s" % (label, names, gdb))


if __name__ == "__main__":
    h.main()
