# ThreadPoolExecutor(1) self-deadlock (issue 16): render_page runs on the pool's only worker and
# waits for a task it submitted to the same pool, queued behind itself: it never runs. The main
# thread waits for render_page's result. The finding's subject frame must be render_page (the
# application frame), not Condition.wait or Future.result two frames further in.
import concurrent.futures

import _scenario

pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pool")


def fetch_rates():
    return {"EUR": 1.0}


def render_page():
    return pool.submit(fetch_rates).result()  # blocks: fetch_rates waits for this very worker


def main():
    page = pool.submit(render_page)
    _scenario.report_when_parked(expected=2)
    page.result()


if __name__ == "__main__":
    main()
