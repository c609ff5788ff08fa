# -*- coding: utf-8 -*-
# Non-ASCII names everywhere: the thread runs 处理 -> обработать_запрос from the module
# "py_unicode_модуль.py", with str locals of every kind (ASCII, latin-1, BMP, astral).
import importlib
import threading

import _scenario

модуль = importlib.import_module("py_unicode_модуль")


def main():
    t = threading.Thread(target=модуль.处理, args=("héllo wörld ✓ 日本語 🐍",), name="поток-ü")
    t.daemon = True
    t.start()
    _scenario.report_when_parked(expected=2, locals={"текст": "héllo wörld ✓ 日本語 🐍",
                                                     "смайлик": "🐍 ✓", "latin": "café crème"})
    t.join()


if __name__ == "__main__":
    main()
