# Shared plumbing for the Python scenarios: ground truth and the "ready" signal.
#
# A scenario parks its threads at known lines, then calls report_when_parked(n): a short-lived
# reporter thread waits until n other threads sit still (identical stacks in consecutive
# snapshots), writes their stacks to $SNAG_TRUTH, writes "ready\n" to $SNAG_READY, and exits.
# The stacks come from sys._current_frames() + traceback.extract_stack, innermost first, so
# they are exactly what a debugger looking from outside must report. Works on 2.7 and 3.6+.
import json
import os
import sys
import threading
import time
import traceback


def _frames_of(frame):
    """Innermost-first frames of a Python frame chain, as traceback sees them."""
    summary = traceback.extract_stack(frame)
    codes, lastis = [], []
    f = frame
    while f is not None:
        codes.append(f.f_code)
        lastis.append(f.f_lasti)
        f = f.f_back
    codes.reverse()
    lastis.reverse()
    out = []
    for entry, code, lasti in zip(summary, codes, lastis):
        filename, lineno, name = entry[0], entry[1], entry[2]
        item = {"function": name, "file": filename, "line": lineno}
        qualname = getattr(code, "co_qualname", None)  # 3.11+: what snag shows as the name
        if qualname is not None:
            item["qualname"] = qualname
        positions = getattr(code, "co_positions", None)  # 3.11+: [line, end line, column, end column]
        if positions is not None and lasti >= 0:
            item["positions"] = list(list(positions())[lasti // 2])
        out.append(item)
    out.reverse()
    return out


def _thread_record(ident, frames):
    names = dict((t.ident, t) for t in threading.enumerate())
    t = names.get(ident)
    record = {"ident": ident, "name": t.name if t is not None else None, "frames": frames}
    native = getattr(t, "native_id", None) if t is not None else None  # 3.8+
    if native is not None:
        record["native_id"] = native
    return record


def snapshot(exclude=()):
    """Ground-truth records for every Python thread except those in exclude."""
    current = sys._current_frames()
    return [_thread_record(ident, _frames_of(frame))
            for ident, frame in sorted(current.items()) if ident not in exclude]


def _key(records):
    return [(r["ident"], [(f["function"], f["line"]) for f in r["frames"]]) for r in records]


def _write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)  # rename is atomic: readers never see a half-written file


def write_truth(records, **extra):
    path = os.environ.get("SNAG_TRUTH")
    if not path:
        return
    doc = {"pid": os.getpid(), "python": list(sys.version_info[:3]), "threads": records}
    doc.update(extra)
    _write_atomically(path, json.dumps(doc, indent=1))


def signal_ready():
    path = os.environ.get("SNAG_READY")
    if path:
        _write_atomically(path, "ready\n")


def stack_here(depth=1, line=None):
    """This thread's truth as it will be once it parks at `line` of the caller `depth` up."""
    frame = sys._getframe(depth)
    frames = _frames_of(frame)
    if line is not None:
        frames[0]["line"] = line
    me = threading.current_thread().ident
    return _thread_record(me, frames)


def wait_until_parked(expected, exclude=(), stable_rounds=3, interval=0.05, timeout=60.0):
    """Records of the other threads once `expected` of them show identical stacks in
    `stable_rounds` consecutive snapshots; exits the process if they never settle."""
    deadline = time.time() + timeout
    previous, rounds, records = None, 0, []
    while time.time() < deadline:
        records = snapshot(exclude=exclude)
        key = _key(records)
        rounds = rounds + 1 if (key == previous and len(records) == expected) else 0
        previous = key
        if rounds >= stable_rounds:
            return records
        time.sleep(interval)
    sys.stderr.write("scenario: threads never settled (%d seen, %d expected)\n"
                     % (len(records), expected))
    os._exit(3)


def report_when_parked(expected, **extra):
    """Start the reporter thread; it writes truth and ready once `expected` threads are still,
    then exits, so the process is left with exactly the threads the truth lists."""
    def reporter():
        me = threading.current_thread().ident
        write_truth(wait_until_parked(expected, exclude=(me,)), **extra)
        signal_ready()
    t = threading.Thread(target=reporter, name="snag-reporter")
    t.daemon = True
    t.start()
    return t


def park_forever(seconds=3600):
    """Sleep in one call that stays at the caller's line (a loop would move the line)."""
    while True:
        time.sleep(seconds)
