# Wait chain through a plain Lock and a socket (issue 16): "refresher" takes cache_lock in a
# `with` block and waits inside it for a reply its upstream never sends; "worker" blocks
# entering `with cache_lock:` in render_page. A Lock records no owner: the expected report is
# one wait chain, worker -> refresher (the probable owner, its `with` block open in
# fetch_rates) -> its recv on a TCP socket connected to the upstream's address. "auditor" took
# and left the lock before, and sleeps on in the same frame: a block already left is no hold.
import socket
import threading

import _scenario

cache_lock = threading.Lock()
upstream = socket.socket()
upstream.bind(("127.0.0.1", 0))
upstream.listen(1)
holding = threading.Event()
audited = threading.Event()


def audit():
    with cache_lock:
        pass
    audited.set()
    _scenario.park_forever()


def fetch_rates():
    audited.wait()
    conn = socket.create_connection(upstream.getsockname())
    with cache_lock:
        holding.set()
        conn.recv(1)  # blocks: the upstream accepts nothing and sends nothing


def render_page():
    holding.wait()
    with cache_lock:  # blocks: refresher holds it
        return "page"


def main():
    threads = [threading.Thread(target=f, name=n, daemon=True)
               for f, n in ((audit, "auditor"), (fetch_rates, "refresher"), (render_page, "worker"))]
    for t in threads:
        t.start()
    worker = threads[2]
    _scenario.report_when_parked(expected=4, upstream="%s:%d" % upstream.getsockname())
    worker.join()


if __name__ == "__main__":
    main()
