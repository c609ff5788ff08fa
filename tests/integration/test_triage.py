"""snag triage, snag buckets, snag collect (docs/triage.md): a directory of cores from the
scenarios is stored and bucketed; the same deadlock from two PIDs and two Pythons is one bucket,
a crash another; a damaged and a cut core are stored as unreadable with their reason; copies
(plain, zstd, gzip) are the same dump; a re-run adds nothing; snag collect takes a core on stdin
as the kernel's core_pattern pipe gives it."""
import gzip
import html.parser
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

_CORES = {}


def postgres_server():
    """A PostgreSQL server of our own (initdb + postgres on 127.0.0.1 as the postgres user):
    test_daemons' helper, imported without registering its cases."""
    n = len(h._cases)
    import test_daemons
    del h._cases[n:]
    return test_daemons.Postgres()


def pythons():
    """Two pyenv CPythons of different minor versions (the deadlock from both)."""
    found = {}
    for i in h.interpreters(extra=False):
        if i.version[:2] in ((3, 11), (3, 12)):
            found.setdefault(i.version[:2], i)
    if len(found) < 2:
        h.skip("needs pyenv CPython 3.11 and 3.12")
    return [found[k] for k in sorted(found)]


def cores():
    """{name: path}: two deadlocks (3.11, 3.12), a crash, made once per test process."""
    if _CORES:
        return dict(_CORES)
    d = h.scratch()
    for interp in pythons():
        with h.py_scenario(interp, "py_deadlock_rlock.py") as s:
            path = os.path.join(d, "deadlock-%d.%d.core" % interp.version[:2])
            h.snag("dump", s.pid, "-o", path, check=True)
            _CORES["deadlock-%d.%d" % interp.version[:2]] = path
    crash = os.path.join(d, "crash.core")
    r = h.snag("run", "--on-crash", "dump", "-o", crash, "--", pythons()[-1].path,
               os.path.join(h.SCENARIOS, "py_crash.py"), "segv", timeout=180)
    h.check(os.path.exists(crash), "no crash core: %s" % r.stderr[-1000:])
    _CORES["crash"] = crash
    return dict(_CORES)


def rows(db, sql, *params):
    with sqlite3.connect(db) as c:
        return c.execute(sql, params).fetchall()


def triage(db, *args):
    r = h.snag("triage", "--db", db, "-j", "2", *args, timeout=600)
    h.check(r.returncode == 0, "snag triage exited %d: %s%s" % (r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r


@h.case("batch")
def test_batch():
    c = cores()
    d = h.scratch()
    spool = os.path.join(d, "spool")
    os.makedirs(os.path.join(spool, "host1"))
    for name in ("deadlock-3.11", "deadlock-3.12", "crash"):
        shutil.copy(c[name], os.path.join(spool, "host1", name + ".core"))
    # A damaged core (its ELF header overwritten) and a cut one (its first MiB).
    with open(c["deadlock-3.11"], "rb") as f:
        data = f.read()
    with open(os.path.join(spool, "damaged.core"), "wb") as f:
        f.write(b"\0" * 64 + data[64:])
    with open(os.path.join(spool, "cut.core"), "wb") as f:
        f.write(data[:1 << 20])
    # Copies of one dump under other names (walked after host1/): plain, zstd and gzip.
    mirror = os.path.join(spool, "mirror")
    os.makedirs(mirror)
    shutil.copy(c["deadlock-3.12"], os.path.join(mirror, "copy.core"))
    with open(c["deadlock-3.12"], "rb") as f, gzip.open(os.path.join(mirror, "copy.core.gz"), "wb") as g:
        shutil.copyfileobj(f, g)
    if shutil.which("zstd"):
        subprocess.run(["zstd", "-q", c["deadlock-3.12"], "-o", os.path.join(mirror, "copy.core.zst")], check=True)
    db = os.path.join(d, "triage.db")

    r = triage(db, spool)
    print(r.stdout, end="")
    h.check("3 analysed, 2 unreadable, 0 failed, 0 already stored, %d copies" % (3 if shutil.which("zstd") else 2)
            in r.stdout, "summary: %s" % r.stdout)
    dumps = rows(db, "SELECT path, state, reason, bucket, python, pid FROM dumps ORDER BY path")
    h.check(len(dumps) == 5, "dumps stored: %s" % dumps)
    by_name = {os.path.basename(p): (state, reason, bucket, py, pid) for p, state, reason, bucket, py, pid in dumps}
    h.check(by_name["damaged.core"][0] == "unreadable" and "not an ELF file" in by_name["damaged.core"][1],
            "damaged: %s" % (by_name["damaged.core"],))
    h.check(by_name["cut.core"][0] == "unreadable" and "truncated" in by_name["cut.core"][1],
            "cut: %s" % (by_name["cut.core"],))
    dl11, dl12 = by_name["deadlock-3.11.core"], by_name["deadlock-3.12.core"]
    h.check(dl11[3][:5] == "3.11." and dl12[3][:5] == "3.12." and dl11[4] != dl12[4],
            "two Pythons, two PIDs: %s %s" % (dl11, dl12))
    h.check(dl11[2] == dl12[2] and dl11[2].startswith("python-deadlock-"), "one deadlock bucket: %s %s" % (dl11, dl12))
    crash = by_name["crash.core"]
    h.check(crash[2].startswith("crash-") and crash[2] != dl11[2], "the crash is another bucket: %s" % (crash,))

    buckets = rows(db, "SELECT key, count, signature FROM buckets ORDER BY count DESC")
    h.check([b[1] for b in buckets] == [2, 1], "buckets: %s" % buckets)
    h.check("transfer_a_to_b (py_deadlock_rlock.py)" in buckets[0][2] and
            "transfer_b_to_a (py_deadlock_rlock.py)" in buckets[0][2], "deadlock signature: %s" % buckets[0][2])
    h.check("crash_segv (py_crash.py)" in buckets[1][2], "crash signature: %s" % buckets[1][2])
    findings = rows(db, "SELECT rule, severity, evidence FROM findings f JOIN dumps d ON d.id = f.dump_id "
                        "WHERE d.path LIKE '%deadlock-3.11.core'")
    dl = [f for f in findings if f[0] == "python-deadlock"]
    h.check(len(dl) == 1 and dl[0][1] == "error" and len(json.loads(dl[0][2])["cycle"]) == 2, "findings: %s" % findings)

    check_buckets(db)
    # The progress line only on a terminal.
    h.check("done," not in r.stderr, "progress on a pipe: %r" % r.stderr)
    tty = h.Pty([h.SNAG, "triage", "--db", os.path.join(d, "tty.db"), "-j", "2", spool], timeout=300)
    try:
        tty.expect(r"snag triage: [0-5]/5 done, [0-9]+ not analysed, [0-9]+ dumps/min")
        tty.expect(r"3 analysed, 2 unreadable")
        h.check(tty.wait(300) == 0, "snag triage on a tty: %s" % tty.seen[-2000:])
    finally:
        tty.close()

    # A re-run adds nothing; neither does the same directory named twice.
    r = triage(db, spool, spool)
    h.check("0 analysed, 0 unreadable, 0 failed" in r.stdout, "re-run: %s" % r.stdout)
    h.check(rows(db, "SELECT count(*) FROM dumps")[0][0] == 5, "re-run stored more dumps")
    h.check(rows(db, "SELECT sum(count) FROM buckets")[0][0] == 3, "re-run counted more")
    # A new copy of a stored core is recognised by content, not by name.
    shutil.copy(c["crash"], os.path.join(spool, "crash-again.core"))
    r = triage(db, spool)
    h.check("0 analysed" in r.stdout and rows(db, "SELECT count(*) FROM dumps")[0][0] == 5, "copy: %s" % r.stdout)


def check_buckets(db):
    """snag buckets on the batch's store: the deadlock bucket first, with both Pythons."""
    report = h.snag_json("buckets", "--db", db, "--format", "json")
    b = report["buckets"]
    h.check([x["count"] for x in b] == [2, 1] and [x["rule"] for x in b] == ["python-deadlock", "crash"],
            "buckets: %s" % [(x["rule"], x["count"]) for x in b])
    h.check(report["counts"] == {"dumps": 5, "analysed": 3, "unreadable": 2, "buckets": 2}, "counts %s" % report["counts"])
    builds = " ".join(b[0]["builds"])
    h.check("(Python 3.11." in builds and "(Python 3.12." in builds, "deadlock builds: %s" % builds)
    h.check(b[0]["hosts"] == [os.uname().nodename], "hosts: %s" % b[0]["hosts"])
    h.check(b[0]["first_seen"] <= b[0]["last_seen"], "first/last seen %s" % b[0])
    stack = b[0]["example"]["stack"]
    py = [f for f in stack if f["kind"] == "python"]
    h.check(py and py[0]["function"] in ("transfer_a_to_b", "transfer_b_to_a") and py[0]["line"] > 0, "stack %s" % stack)
    crash_py = [f["function"] for f in b[1]["example"]["stack"] if f["kind"] == "python"]
    h.check("crash_segv" in crash_py, "crash stack %s" % b[1]["example"]["stack"])
    h.check(sorted(os.path.basename(u["path"]) for u in report["unreadable"]) == ["cut.core", "damaged.core"],
            "unreadable %s" % report["unreadable"])
    text = h.snag("buckets", "--db", db, check=True).stdout
    h.check("#1  2 dumps  python-deadlock (error)" in text and "#2  1 dump  crash (critical)" in text, text[:1500])
    md = h.snag("buckets", "--db", db, "--format", "markdown", check=True).stdout
    h.check("| 1 | 2 | python-deadlock |" in md and "### Unreadable dumps" in md, md[:1500])
    check_html(db)


class Page(html.parser.HTMLParser):
    """The parts of snag buckets' HTML page a reader relies on: bucket rows (cells), example stacks,
    every tag and external reference (none may load anything)."""

    def __init__(self):
        super().__init__()
        self.rows, self.stacks, self.tags, self.refs = [], [], [], []
        self._row = self._cell = self._stack = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("src", "href") and not v.startswith("#")]
        if tag == "tr" and a.get("class") == "bucket":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = ""
        elif tag == "pre" and a.get("class") == "stack":
            self._stack = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "pre" and self._stack is not None:
            self.stacks.append(self._stack)
            self._stack = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._stack is not None:
            self._stack += data


def check_html(db):
    """--format html: one page, a row per bucket with its count, each store string escaped (a frame
    named with '<' and '&' is text, not markup); Chromium, when installed, renders the rows."""
    # A copy of the store whose crash example has a C++ frame name full of markup characters.
    d = h.scratch()
    marked = os.path.join(d, "marked.db")
    shutil.copy(db, marked)
    with sqlite3.connect(marked) as c:
        key, stack = c.execute("SELECT key, example_stack FROM buckets WHERE rule = 'crash'").fetchone()
        frames = json.loads(stack)
        frames.insert(0, {"kind": "native", "function": "operator<< <std::pair<int&, T>></script>", "module": "/lib/a&b.so"})
        c.execute("UPDATE buckets SET example_stack = ? WHERE key = ?", (json.dumps(frames), key))
    page = h.snag("buckets", "--db", marked, "--format", "html", check=True).stdout
    p = Page()
    p.feed(page)
    p.close()
    h.check([r[2] for r in p.rows] == ["python-deadlock", "crash"] and [r[1] for r in p.rows] == ["2", "1"],
            "html rows: %s" % p.rows)
    h.check(p.rows[1][3] == "critical" and os.uname().nodename in p.rows[0][6] and "3.12." in p.rows[0][7],
            "html cells: %s" % p.rows)
    h.check("transfer_a_to_b (py_deadlock_rlock.py) < run" in p.rows[0][8], "signature cell: %s" % p.rows[0][8])
    h.check(len(p.stacks) == 2 and re.search(r"transfer_(a_to_b|b_to_a) \(py_deadlock_rlock.py:[0-9]+\)", p.stacks[0]),
            "stacks: %s" % p.stacks)
    h.check(p.stacks[1].startswith("a&b.so!operator<< <std::pair<int&, T>></script>\n"), "escaped frame: %r" % p.stacks[1][:200])
    h.check("operator&lt;&lt; &lt;std::pair&lt;int&amp;, T&gt;&gt;&lt;/script&gt;" in page and "script" not in p.tags,
            "markup in the page: %s" % p.tags)
    h.check(p.refs == [] and "<style>" in page and "5 dumps (3 analysed, 2 unreadable" in page, "refs %s" % p.refs)
    chromium_renders(page)


def chromium_renders(page):
    """Debian's chromium, headless: the DOM it builds has both bucket rows; a screenshot is written
    (kept under the build dir: test-output/triage/buckets.png)."""
    exe = shutil.which("chromium")
    if not exe:
        print("skipping the Chromium check: chromium is not installed (scripts/install-deps test)")
        return
    out = os.path.join(os.path.dirname(os.path.abspath(h.SNAG)), "test-output", "triage")
    os.makedirs(out, exist_ok=True)
    page_path, png = os.path.join(out, "buckets.html"), os.path.join(out, "buckets.png")
    with open(page_path, "w") as f:
        f.write(page)
    if os.path.exists(png):
        os.unlink(png)
    profile = h.scratch()
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile, "--window-size=1280,1600"]
    dom = run_chromium(base + ["--dump-dom", "file://" + page_path])
    h.check(dom.count('<tr class="bucket">') == 2 and ">python-deadlock</td>" in dom and ">crash</td>" in dom,
            "chromium's DOM: %s" % dom[:2000])
    run_chromium(base + ["--screenshot=" + png, "file://" + page_path])
    h.check(os.path.exists(png) and os.path.getsize(png) > 1000, "no screenshot at %s" % png)
    print("chromium screenshot of snag buckets --format html: %s" % png)


def run_chromium(argv):
    """stdout of a headless chromium run; its whole process group is killed however it ends."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    h.check(proc.returncode == 0, "chromium exited %d: %s" % (proc.returncode, err[-2000:]))
    return out


def spool_of_cores():
    """A spool with the deadlocks, the crash, a damaged core and a copy."""
    c = cores()
    spool = os.path.join(h.scratch(), "spool")
    os.makedirs(spool)
    for name in ("deadlock-3.11", "deadlock-3.12", "crash"):
        shutil.copy(c[name], os.path.join(spool, name + ".core"))
    with open(os.path.join(spool, "damaged.core"), "wb") as f:
        f.write(b"\0" * 4096)
    shutil.copy(c["crash"], os.path.join(spool, "z-copy.core"))
    return spool


def bucket_table(db):
    b = h.snag_json("buckets", "--db", db, "--format", "json")
    return b["counts"], [(x["key"], x["rule"], x["count"], x["signature"], x["first_seen"], x["last_seen"],
                          x["hosts"], x["builds"]) for x in b["buckets"]], b["unreadable"]


@h.case("postgresql")
def test_postgresql():
    """The same spool into SQLite and into a real PostgreSQL gives the same bucket table; two
    snag triage runs at once on one PostgreSQL store each dump once."""
    spool = spool_of_cores()
    lite = os.path.join(h.scratch(), "t.db")
    pg = postgres_server()
    try:
        h.check(pg.sql("CREATE DATABASE one") is not None and pg.sql("CREATE DATABASE two") is not None,
                "CREATE DATABASE failed")
        url = "postgresql://postgres@127.0.0.1:%d/" % pg.port
        triage(lite, spool)
        r = triage(url + "one", spool)
        h.check("3 analysed, 1 unreadable, 0 failed, 0 already stored, 1 copies" in r.stdout, r.stdout)
        h.check("PostgreSQL database postgresql://postgres@127.0.0.1:%d/one" % pg.port in r.stdout, r.stdout)
        h.check(bucket_table(lite) == bucket_table(url + "one"),
                "SQLite and PostgreSQL differ:\n%s\n%s" % (bucket_table(lite), bucket_table(url + "one")))
        r = triage(url + "one", spool)
        h.check("0 analysed, 0 unreadable, 0 failed, 4 already stored, 1 copies" in r.stdout, "re-run: %s" % r.stdout)
        # Two runs at once on one store (empty: both migrate it, both see every dump as new).
        runs = [subprocess.Popen([h.SNAG, "triage", "--db", url + "two", "-j", "1", spool], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in runs]
        h.check(all(p.returncode == 0 for p in runs), "concurrent runs: %s" % outs)
        # Each dump analysed by exactly one of the runs (claimed in the store before analysis).
        done = [re.search(r"(\d+) analysed, (\d+) unreadable, (\d+) failed", o[0]) for o in outs]
        h.check(all(done) and sum(int(m.group(1)) + int(m.group(2)) for m in done) == 4,
                "concurrent runs analysed %s" % [o[0].splitlines()[0] for o in outs])
        counts, table, _ = bucket_table(url + "two")
        h.check(counts == {"dumps": 4, "analysed": 3, "unreadable": 1, "buckets": 2}, "concurrent counts %s" % counts)
        h.check([t[2] for t in table] == [2, 1], "concurrent buckets %s" % table)
        r = h.snag("triage", "--db", "postgresql://postgres@127.0.0.1:%d/missing" % pg.port, spool)
        h.check(r.returncode == 2 and "database \"missing\" does not exist" in r.stderr, "missing db: %s" % r.stderr)
    finally:
        pg.stop()


def collect(spool, core, pid, *extra):
    with open(core, "rb") as f:
        return subprocess.run([h.SNAG, "collect", str(pid), "11", "python3", "--spool", spool] + list(extra),
                              stdin=f, capture_output=True, text=True, timeout=300)


@h.case("collect")
def test_collect():
    """snag collect fed a core on stdin as the kernel's core_pattern pipe does: kept compressed in
    the spool, triaged into SPOOL/triage.db in the crash's bucket; the limits refuse and say why."""
    c = cores()
    spool = os.path.join(h.scratch(), "spool")
    r = collect(spool, c["crash"], 4242)
    h.check(r.returncode == 0, "collect: %d %s" % (r.returncode, r.stderr))
    kept = [n for n in os.listdir(spool) if n.endswith(".core.zst")]
    h.check(len(kept) == 1 and kept[0].startswith("python3.4242."), "spool: %s" % os.listdir(spool))
    size = os.path.getsize(os.path.join(spool, kept[0]))
    h.check(size < os.path.getsize(c["crash"]) / 2, "compressed %d of %d bytes" % (size, os.path.getsize(c["crash"])))
    db = os.path.join(spool, "triage.db")
    got = rows(db, "SELECT state, bucket, signal FROM dumps")
    h.check(len(got) == 1 and got[0][0] == "analysed" and got[0][1].startswith("crash-") and got[0][2] == "SIGSEGV",
            "stored: %s" % got)
    # The same bucket as snag triage gives the uncompressed core.
    other = os.path.join(h.scratch(), "t.db")
    triage(other, c["crash"])
    h.check(rows(other, "SELECT bucket FROM dumps")[0][0] == got[0][1], "collect and triage buckets differ")
    with open(os.path.join(spool, ".collect.log")) as f:
        log = f.read()
    h.check("kept " + os.path.join(spool, kept[0]) in log and got[0][1] in log, "log: %s" % log)
    # Limits: a core over --max-size is not kept; past --max-per-hour neither.
    r = collect(spool, c["crash"], 4243, "--max-size", "1")
    h.check(r.returncode == 0 and "larger than --max-size (1 MiB)" in r.stderr, "max-size: %s" % r.stderr)
    r = collect(spool, c["deadlock-3.11"], 4244, "--max-per-hour", "3")
    h.check(r.returncode == 0 and "kept" in r.stderr, "third of the hour: %s" % r.stderr)
    r = collect(spool, c["crash"], 4245, "--max-per-hour", "3")
    h.check(r.returncode == 0 and "more than 3 cores in the last hour" in r.stderr, "rate: %s" % r.stderr)
    r = collect(spool, c["crash"], 4246, "--max-spool", "1")
    h.check(r.returncode == 0 and "the spool is full" in r.stderr, "max-spool: %s" % r.stderr)
    names = sorted(n for n in os.listdir(spool) if not n.startswith("."))
    h.check(len([n for n in names if n.endswith(".core.zst")]) == 2, "spool after limits: %s" % names)
    h.check(rows(db, "SELECT count(*) FROM dumps")[0][0] == 2, "dumps after limits")
    # snag triage on the spool finds the collected cores stored (the store itself is no dump).
    r = triage(db, spool)
    h.check("0 analysed, 0 unreadable, 0 failed, 2 already stored" in r.stdout, "triage of the spool: %s" % r.stdout)
    r = subprocess.run([h.SNAG, "collect", "--spool", spool], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    h.check(r.returncode == 2 and "PID SIGNAL COMM" in r.stderr, "no args: %s" % r.stderr)


@h.case("bad-usage")
def test_bad_usage():
    d = h.scratch()
    r = h.snag("triage", "--db", os.path.join(d, "x.db"), timeout=30)
    h.check(r.returncode == 2 and "needs cores" in r.stderr, "no cores: %d %s" % (r.returncode, r.stderr))
    r = h.snag("triage", "--db", os.path.join(d, "x.db"), "-j", "0", d, timeout=30)
    h.check(r.returncode == 2 and "-j must be" in r.stderr, "-j 0: %s" % r.stderr)
    r = h.snag("triage", "--db", os.path.join(d, "x.db"), os.path.join(d, "missing.core"), timeout=30)
    h.check(r.returncode == 2 and "missing.core" in r.stderr, "missing core: %s" % r.stderr)
    notdb = os.path.join(d, "notdb")
    with open(notdb, "w") as f:
        f.write("x" * 5000)
    r = h.snag("triage", "--db", notdb, d, timeout=30)
    h.check(r.returncode == 2 and notdb in r.stderr, "not a store: %s" % r.stderr)
    r = h.snag("buckets", "--db", notdb, timeout=30)
    h.check(r.returncode == 2 and notdb in r.stderr, "buckets, not a store: %s" % r.stderr)
    r = h.snag("buckets", "--db", os.path.join(d, "x.db"), "--format", "pdf", timeout=30)
    h.check(r.returncode == 2 and "markdown or html, not pdf" in r.stderr, "buckets --format pdf: %s" % r.stderr)


if __name__ == "__main__":
    h.main()
