"""A small Flask app for gunicorn, used by tests/integration/test_daemons.py.

GET /         answers at once (an idle server stays idle).
GET /hang     starts a "refresher" thread that takes CACHE_LOCK and sleeps while holding it (a
              refresh stuck on a slow backend), then renders a page that needs the lock: the
              worker hangs in render_page, waiting for the refresher. The refresher writes
              $SNAG_READY (renamed into place) once it holds the lock.
"""
import os
import threading
import time

from flask import Flask

app = Flask(__name__)
CACHE_LOCK = threading.RLock()


def refresh_cache():
    with CACHE_LOCK:
        ready = os.environ.get("SNAG_READY")
        if ready:
            with open(ready + ".tmp", "w") as f:
                f.write("ready\n")
            os.rename(ready + ".tmp", ready)
        time.sleep(3600)


def render_page():
    with CACHE_LOCK:
        return "page\n"


@app.route("/")
def index():
    return "hello\n"


@app.route("/hang")
def hang():
    refresher = threading.Thread(target=refresh_cache, name="refresher", daemon=True)
    refresher.start()
    while not os.path.exists(os.environ.get("SNAG_READY", "")):
        time.sleep(0.01)  # until the refresher holds the lock
    return render_page()
