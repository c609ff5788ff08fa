"""gdb's `thread apply all bt` against `snag bt --json`, frame for frame (test_bt_vs_gdb.py).

parse_gdb() reads gdb's text into threads of frames {function, file, line}; frames_of_snag()
turns snag's JSON into the same shape; differences() lists every thread whose frames differ
(a frame missing, extra, another name, another line), as readable text. Functions are compared
by name (gdb's `??` is None), files by base name (gdb and snag may spell directories apart).
"""
import os
import re

_THREAD = re.compile(r'^Thread \d+ \(.*?LWP (\d+)\)')
_FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-fA-F]+ in )?(.+?) \(")
_SIGNAL = re.compile(r"^#(\d+)\s+<signal handler called>")
_AT = re.compile(r"\) at (\S+):(\d+)$")
SIGNAL = "<signal handler called>"


def parse_gdb(text):
    """{tid: [frame]} from gdb's `thread apply all bt` output (lines before the first thread ignored)."""
    threads, current = {}, None
    for line in text.splitlines():
        m = _THREAD.match(line)
        if m:
            current = threads.setdefault(int(m.group(1)), [])
            continue
        if current is None:
            continue
        if _SIGNAL.match(line):
            current.append({"function": SIGNAL, "file": None, "line": None})
            continue
        m = _FRAME.match(line)
        if not m:
            continue
        name = m.group(2)
        at = _AT.search(line)
        current.append({"function": None if name == "??" else name,
                        "file": os.path.basename(at.group(1)) if at else None,
                        "line": int(at.group(2)) if at else None})
    return threads


def frames_of_snag(stacks):
    """{tid: [frame]} from `snag bt --json`; the signal trampoline becomes gdb's marker frame."""
    out = {}
    for t in stacks["threads"]:
        frames = []
        for f in t["frames"]:
            if f.get("note") == SIGNAL:
                frames.append({"function": SIGNAL, "file": None, "line": None})
                continue
            frames.append({"function": f.get("function") or None,
                           "file": os.path.basename(f["file"]) if f.get("file") else None,
                           "line": f.get("line")})
        out[t["tid"]] = frames
    return out


def _text(frame):
    where = " at %s:%s" % (frame["file"], frame["line"]) if frame["file"] else ""
    return "%s%s" % (frame["function"] or "??", where)


def _same(a, b, compare_line):
    if a["function"] != b["function"]:
        return False
    return not compare_line or (a["file"], a["line"]) == (b["file"], b["line"])


def differences(gdb, snag, moving=()):
    """Readable differences between {tid: frames} of gdb and snag; [] when they agree.

    moving: tids of threads that ran between the two tools (live): their innermost frame's
    line may differ, nothing else."""
    out = []
    for tid in sorted(set(gdb) | set(snag)):
        if tid not in snag or tid not in gdb:
            out.append("thread %d: only %s has it" % (tid, "gdb" if tid in gdb else "snag"))
            continue
        g, s = gdb[tid], snag[tid]
        bad = len(g) != len(s)
        for i in range(min(len(g), len(s))):
            if not _same(g[i], s[i], compare_line=not (tid in moving and i == 0)):
                bad = True
        if bad:
            rows = []
            for i in range(max(len(g), len(s))):
                left = _text(g[i]) if i < len(g) else "-"
                right = _text(s[i]) if i < len(s) else "-"
                mark = "  " if i < len(g) and i < len(s) and left == right else "!!"
                rows.append("  %s #%-2d gdb: %-60s snag: %s" % (mark, i, left, right))
            out.append("thread %d differs (gdb %d frames, snag %d):\n%s" % (tid, len(g), len(s), "\n".join(rows)))
    return out
