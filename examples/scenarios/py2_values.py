# -*- coding: utf-8 -*-
# Python 2.7 only: a thread in nested generators, and a thread parked with locals of every 2.7
# value type (str, unicode, int, long, float, tuple, list, dict, None, bool, old-style instance).
# The truth carries repr() of each local, which snag's --locals must print exactly.
import threading

import _scenario

never = threading.Event()


class OldStyle:
    pass


def numbers():
    yield 1
    never.wait()  # parked two generators deep
    yield 2


def doubled():
    for n in numbers():
        yield 2 * n


def consume_rows():
    return list(doubled())


def hold_values():
    text = "plain \xff bytes"
    wide = u"h\xe9llo \u2713 \U0001f40d"
    small = -42
    big = 10 ** 30
    ratio = 0.1
    pair = (1, "a")
    items = [None, True, False]
    table = {"k": 7}
    old = OldStyle()
    shown = dict((k, repr(v)) for k, v in locals().items() if k != "old")
    _scenario.report_when_parked(expected=3, locals=shown)
    never.wait()  # parked with the locals above
    return text, wide, small, big, ratio, pair, items, table, old


def start(target, name):
    t = threading.Thread(target=target, name=name)
    t.daemon = True
    t.start()
    return t


def main():
    workers = [start(consume_rows, "generator"), start(hold_values, "values")]
    for t in workers:
        t.join()


if __name__ == "__main__":
    main()
