# Not My Version: a program loads a native library through ctypes ($SNAG_LIBRARY, built by the
# test) and parks. A core taken now and analysed after the library file was rebuilt at the same
# path shows a module whose build-id differs from the file on disk.
import ctypes
import os

import _scenario


def main():
    path = os.environ["SNAG_LIBRARY"]
    lib = ctypes.CDLL(path)
    lib.ledger_version.restype = ctypes.c_int
    _scenario.write_truth(None, library=path, version=lib.ledger_version())
    _scenario.signal_ready()
    _scenario.park_forever()


if __name__ == "__main__":
    main()
