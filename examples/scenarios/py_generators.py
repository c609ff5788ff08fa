# Generator and coroutine frames active on the stack when parked. The "generator" thread
# iterates produce_rows(), whose body waits; the "coroutine" thread drives handle_request()
# with send(), which awaits fetch_payload(), whose body waits. Python 3.5+ (async def).
import threading

import _scenario

never = threading.Event()


def produce_rows():
    yield 1
    never.wait()  # parked while the generator runs
    yield 2


def consume_rows():
    total = 0
    for row in produce_rows():
        total += row
    return total


class Ready(object):
    def __await__(self):
        return iter(())


async def fetch_payload():
    await Ready()
    never.wait()  # parked inside a coroutine two awaits deep
    return b""


async def handle_request():
    return await fetch_payload()


def drive(coro):
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value


def main():
    threads = [threading.Thread(target=consume_rows, name="generator"),
               threading.Thread(target=drive, args=(handle_request(),), name="coroutine")]
    for t in threads:
        t.daemon = True
        t.start()
    _scenario.report_when_parked(expected=3)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
