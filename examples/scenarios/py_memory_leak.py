# Memory leak (patterns.md case 5): a singleton registry dictionary grows by one entry per
# iteration: requests register a session and only the logout path removes it; logins without
# logout leak. Expected: growing RSS and object counts under live sampling. Ready after
# SNAG_LEAK_READY_AT iterations (default 20); SNAG_LEAK_INTERVAL seconds per iteration.
import os
import time

import _scenario

INTERVAL = float(os.environ.get("SNAG_LEAK_INTERVAL", "0.05"))
READY_AT = int(os.environ.get("SNAG_LEAK_READY_AT", "20"))


class SessionRegistry(object):
    _instance = None

    def __init__(self):
        self.sessions = {}

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = SessionRegistry()
        return cls._instance

    def register(self, key, payload):
        self.sessions[key] = payload

    def unregister(self, key):
        self.sessions.pop(key, None)


def login(n):
    SessionRegistry.instance().register("session-%d" % n, bytearray(64 * 1024))


def logout(n):
    SessionRegistry.instance().unregister("session-%d" % n)


def serve_forever():
    n = 0
    while True:
        login(n)
        if n % 10 == 0:
            logout(n)  # only every tenth session ever logs out
        n += 1
        if n == READY_AT:
            _scenario.write_truth(None, interval=INTERVAL, entry_bytes=64 * 1024)
            _scenario.signal_ready()
        time.sleep(INTERVAL)


if __name__ == "__main__":
    serve_forever()
