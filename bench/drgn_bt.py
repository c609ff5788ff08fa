# drgn's native unwind of every thread of a core (the bench/run comparison point):
# prog.threads() + stack_trace(), naming every frame. Prints one JSON line with counts and the
# time spent loading debug info and unwinding. usage: drgn_bt.py CORE
import json
import sys
import time

import drgn


def main():
    start = time.monotonic()
    prog = drgn.Program()
    prog.set_core_dump(sys.argv[1])
    try:
        prog.load_default_debug_info()
    except drgn.MissingDebugInfoError:
        pass  # partial debug info is normal (stripped system libraries)
    loaded = time.monotonic()
    threads = frames = named = 0
    for thread in prog.threads():
        threads += 1
        for frame in thread.stack_trace():
            frames += 1
            try:
                named += frame.name is not None
            except (AttributeError, LookupError):
                pass
    done = time.monotonic()
    print(json.dumps({"threads": threads, "frames": frames, "named": named,
                      "load_s": round(loaded - start, 3), "unwind_s": round(done - loaded, 3)}))


if __name__ == "__main__":
    main()
