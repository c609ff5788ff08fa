# A method parked inside a class: K.meth (qualname "K.meth" on 3.11+), called through
# K.Inner.run (a nested class) from a worker; locals include self and a few attributes.
import threading

import _scenario

never = threading.Event()


class K(object):
    def __init__(self, name):
        self.name = name
        self.requests = [1, 2, 3]

    def meth(self, limit):
        pending = len(self.requests)
        never.wait()  # parked in K.meth
        return pending < limit

    class Inner(object):
        def run(self, k):
            return k.meth(10)


def main():
    t = threading.Thread(target=K.Inner().run, args=(K("service"),), name="method")
    t.daemon = True
    t.start()
    _scenario.report_when_parked(expected=2)
    t.join()


if __name__ == "__main__":
    main()
