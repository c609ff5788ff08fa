# CPU-busy but no loop (negative of the busy loop, patterns.md case 6): the "request-server"
# thread handles a stream of short CPU-bound requests of five kinds, chosen at random. Each
# takes ~1 ms in pure Python through handle -> handle_KIND -> helper -> leaf, so samples of its
# stack a few hundred ms apart catch different code; only serve_forever and handle are common.
# Ready once 200 requests were served; truth: {"busy_tid"} (stacks keep moving: threads null).
import random
import threading

import _scenario


def crc_block(data):
    s = 0
    for b in data:
        s = (s * 31 + b) & 0xFFFFFFFF
    return s


def checksum(payload):
    return crc_block(payload)


def handle_upload(n):
    return checksum(bytes(range(256)) * n)


def format_rows(rows):
    return sum(len("%05d|%s" % (i, r)) for i, r in enumerate(rows))


def render(n):
    return format_rows(["row"] * (300 * n))


def handle_report(n):
    return render(n)


def score(words, term):
    return sum(1 for w in words if w.startswith(term))


def match(n):
    return score(["alpha", "beta", "gamma"] * (300 * n), "ga")


def handle_search(n):
    return match(n)


def interpolate(pixels):
    return [(a + b) // 2 for a, b in zip(pixels, pixels[1:])]


def scale(n):
    return interpolate(list(range(1000 * n)))


def handle_resize(n):
    return scale(n)


def stretch(secret, rounds):
    h = 0
    for i in range(rounds):
        h = (h ^ (secret + i)) * 16777619 & 0xFFFFFFFF
    return h


def hash_password(n):
    return stretch(12345, 1000 * n)


def handle_login(n):
    return hash_password(n)


HANDLERS = [handle_upload, handle_report, handle_search, handle_resize, handle_login]


def handle(kind, n):
    return HANDLERS[kind](n)


def serve_forever():
    rng = random.Random(7)
    served = 0
    while True:
        handle(rng.randrange(len(HANDLERS)), rng.randrange(1, 4))
        served += 1
        if served == 200:
            _scenario.write_truth(None, busy_tid=threading.get_native_id())
            _scenario.signal_ready()


def main():
    t = threading.Thread(target=serve_forever, name="request-server")
    t.daemon = True
    t.start()
    t.join()


if __name__ == "__main__":
    main()
