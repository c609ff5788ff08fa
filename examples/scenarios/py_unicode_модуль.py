# -*- coding: utf-8 -*-
# Imported by py_unicode.py: a module with a non-ASCII file name and non-ASCII function names.
import threading

никогда = threading.Event()


def обработать_запрос(текст):
    длина = len(текст)
    смайлик = "🐍 ✓"  # astral and BMP characters: a 4-byte-kind str
    latin = "café crème"  # a 1-byte-kind non-ASCII str
    никогда.wait()  # parked with non-ASCII locals
    return длина, смайлик, latin


def 处理(текст):
    return обработать_запрос(текст)
