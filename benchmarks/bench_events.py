"""Events hub benchmarks: CPU per 1,000 events in and out of the buffer, memory at the pending bound.

Run by `make bench`. Side by side in one run, rounds interleaved: the hub (emit from a publisher
thread's point of view, then the writer's batch transaction and the events_max trim) against its
peer, the least any buffer must do: the same rows JSON-encoded and inserted with one executemany
into a plain SQLite table in WAL mode. The read side: an ad-hoc `SELECT *` of every kept event
through the engine, against the peer's plain `SELECT` and json.loads of the same rows. Memory:
a fresh process fills the pending list to its bound (default watchdog limit: 200 MB) and reports
its resident growth. Results go into benchmarks/README.md between the `events` markers.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import publish  # noqa: E402  pylint: disable=wrong-import-position

import apsw  # noqa: E402  pylint: disable=wrong-import-position,wrong-import-order

from pyosquery import events  # noqa: E402  pylint: disable=wrong-import-position
from pyosquery.events.hub import Hub  # noqa: E402  pylint: disable=wrong-import-position
from pyosquery.flags import Values  # noqa: E402  pylint: disable=wrong-import-position
from pyosquery.sql.engine import Engine  # noqa: E402  pylint: disable=wrong-import-position

EVENTS = 20000
CHUNK = 100          # rows per emit call, as a publisher draining a kernel queue
ROUNDS = 5


def file_event(i):
    """A file_events row as inotify gives it: ~15 columns, ~300 bytes of JSON."""
    return {"target_path": "/var/lib/app/data/file-%06d.log" % i, "category": "app", "action": "UPDATED",
            "transaction_id": i, "inode": 1000000 + i, "uid": 0, "gid": 0, "mode": "0644", "size": 4096 + i,
            "atime": 1764500000, "mtime": 1764500000 + i, "ctime": 1764500000 + i, "md5": "", "sha1": "",
            "sha256": "", "hashed": 0, "time": int(time.time())}


def hub_round(root, rows, engine):
    values = Values()
    values.set("disable_events", False)
    values.set("events_max", EVENTS)
    hub = Hub(values, os.path.join(root, "hub-%f.db" % time.time()), classes=[])
    events.install(hub)
    try:
        start = time.process_time()
        for first in range(0, len(rows), CHUNK):
            hub.emit("file_events", rows[first:first + CHUNK])
        emitted = time.process_time()
        hub.flush()
        written = time.process_time()
        count = len(engine.query("SELECT * FROM file_events")[1])
        read = time.process_time()
        assert count == len(rows), count
    finally:
        events.install(None)
        hub.stop()
    return emitted - start, written - start, read - written


def peer_round(root, rows):
    db = apsw.Connection(os.path.join(root, "peer-%f.db" % time.time()))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE events (eid INTEGER PRIMARY KEY, time INTEGER, row TEXT)")
    start = time.process_time()
    with db:
        db.executemany("INSERT INTO events (time, row) VALUES (?, ?)",
                       ((row["time"], json.dumps(row, separators=(",", ":"))) for row in rows))
    written = time.process_time()
    count = sum(1 for _, text in db.execute("SELECT time, row FROM events") if json.loads(text))
    read = time.process_time()
    assert count == len(rows)
    db.close()
    return written - start, read - written


MEMORY_PROBE = """
import os, sys, time
sys.path.insert(0, %r)
from bench_events import file_event
from pyosquery.events.hub import Hub
from pyosquery.flags import Values

def rss():
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) * 1024

values = Values()
values.set("disable_events", False)
hub = Hub(values, ":memory:", classes=[])
rows = [file_event(i) for i in range(1000)]
before = rss()
while not hub.lost:
    hub.emit("file_events", rows)
print(hub.bound, len(hub.pending), rss() - before)
"""


def memory_at_bound():
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE % here], capture_output=True, text=True, check=True)
    bound, pending, grown = (int(x) for x in out.stdout.split())
    return bound, pending, grown


def per_thousand(seconds):
    return seconds * 1000.0 / EVENTS * 1000.0     # ms per 1,000 events


def main():
    rows = [file_event(i) for i in range(EVENTS)]
    engine = Engine()
    ours, theirs = [], []
    with tempfile.TemporaryDirectory(prefix="pyosquery-events-") as root:
        for _ in range(ROUNDS):
            ours.append(hub_round(root, rows, engine))
            theirs.append(peer_round(root, rows))
    emit = [per_thousand(r[0]) for r in ours]
    write = [per_thousand(r[1]) for r in ours]
    read = [per_thousand(r[2]) for r in ours]
    peer_write = [per_thousand(r[0]) for r in theirs]
    peer_read = [per_thousand(r[1]) for r in theirs]
    ratio_write = [a / b for a, b in zip(write, peer_write)]
    ratio_read = [a / b for a, b in zip(read, peer_read)]
    bound, pending, grown = memory_at_bound()
    load = os.getloadavg()[0]

    def span(values, fmt="%.1f"):
        return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(values), min(values), max(values))

    publish("events", ["measure", "hub", "peer", "peer value", "ratio (median, range)"], [
        ("emit only, CPU ms per 1,000 events (%d per call)" % CHUNK, span(emit), "-", "-", "-"),
        ("emit + batch write + events_max trim, CPU ms per 1,000", span(write),
         "json.dumps + executemany, WAL", span(peer_write), span(ratio_write, "%.2f")),
        ("ad-hoc SELECT * of %d kept events, CPU ms per 1,000" % EVENTS, span(read),
         "SELECT + json.loads", span(peer_read), span(ratio_read, "%.2f")),
        ("pending list at its bound (%.0f MB of JSON, %d rows): resident growth MB" % (bound / 2 ** 20, pending),
         "%.1f" % (grown / 2 ** 20), "-", "-", "%.2f of the bound" % (grown / bound)),
        ("load average during the run", "%.1f" % load, "", "", ""),
    ])


if __name__ == "__main__":
    main()
