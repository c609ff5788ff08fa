# Busy loop on a vanished file (patterns.md case 6): find_archive walks os.path.dirname upward,
# opening each directory, until it finds a zip file. The first search succeeds; then the zip is
# deleted and the second search never ends: at "/" dirname("/") is "/", so it opens "/" again
# and again (the syscall trace shows open("/"), fstat, getdents, close forever). A progress
# counter (iterations at "/") goes to $SNAG_PROGRESS (default: $SNAG_READY.progress) every
# 10000 iterations; ready is signalled at the first visit of "/" in the endless search.
import os
import shutil
import tempfile
import threading

import _scenario

PROGRESS = os.environ.get("SNAG_PROGRESS") or (os.environ.get("SNAG_READY", "") + ".progress")
state = {"at_root": 0, "searching_for_vanished": False}


def note_root_visit():
    state["at_root"] += 1
    if not state["searching_for_vanished"]:
        return
    if state["at_root"] == 1:
        _scenario.write_truth(None, start_dir=state["start"], progress_file=PROGRESS)
        _scenario.signal_ready()
    if state["at_root"] % 10000 == 0 and PROGRESS != ".progress":
        with open(PROGRESS, "w") as f:
            f.write("%d\n" % state["at_root"])


def find_archive(start):
    path = start
    while True:
        for entry in os.scandir(path):  # opendir: open, fstat, getdents, close
            if entry.name.endswith(".zip"):
                return entry.path
        if path == "/":
            note_root_visit()
        path = os.path.dirname(path)


def archive_finder(base):
    deep = os.path.join(base, "data", "2024", "reports")
    os.makedirs(deep)
    archive = os.path.join(base, "data", "bundle.zip")
    open(archive, "w").close()
    state["start"] = deep
    assert find_archive(deep) == archive
    os.remove(archive)  # the file vanishes; the next search never terminates
    state["searching_for_vanished"] = True
    find_archive(deep)


def main():
    scratch = os.path.dirname(os.environ.get("SNAG_READY", "")) or None  # killed: no cleanup
    base = tempfile.mkdtemp(prefix="snag-busy-zip-", dir=scratch)
    try:
        t = threading.Thread(target=archive_finder, args=(base,), name="archive-finder")
        t.daemon = True
        t.start()
        t.join()
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
