"""Watchdog benchmarks: the watcher's own cost at idle, and how fast an overrunning worker is gone.

Run by `make bench`. The idle watcher is measured side by side with its peer, a bare Python
process doing the watcher's minimum (read a process's /proc stat and statm every 3 s). The stop
time is measured from outside: this script samples the worker's resident size every 10 ms, notes
when it crosses the memory limit, and when the worker is gone; 10 runs, one daemon, one query per
run (each run's query is denylisted by the next worker). Results go into benchmarks/README.md
between the `watchdog` markers.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import children, cpu_seconds, rss_bytes, start_daemon  # noqa: E402  pylint: disable=wrong-import-position
from report import publish  # noqa: E402  pylint: disable=wrong-import-position

PEER = ("import sys, time\npid = int(sys.argv[1])\nwhile True:\n"
        "    open('/proc/%d/stat' % pid).read(); open('/proc/%d/statm' % pid).read(); time.sleep(3)\n")
LIMIT_MB = 50
FORCED_DELAY = 4        # osquery's default --watchdog_forced_shutdown_delay
# a string growing by ~200 KB at a time for seconds, inside SQLite: the worker cannot act on SIGTERM
GROWING = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 60000000) "
           "SELECT length(group_concat(CASE WHEN i % 60000 = 0 THEN printf('%.*c', 200000, 'x') END)) AS n FROM r "
           "WHERE EXISTS (SELECT 1 FROM file WHERE path = '{trigger}')")


def wait_worker(watcher, previous=None, timeout=60):
    """The watcher's worker once it is a new one and has lived past its first check (baseline taken)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = [p for p in children(watcher) if p != previous]
        if pids:
            time.sleep(4)
            return pids[0]
        time.sleep(0.1)
    raise RuntimeError("no new worker")


def bench_idle(rows, seconds=60):
    root = tempfile.mkdtemp(prefix="pyosquery-wd-idle-")
    daemon = start_daemon(root, {"q": {"query": "SELECT 1", "interval": 3600}})
    try:
        worker = wait_worker(daemon.pid)
        peer = subprocess.Popen([sys.executable, "-c", PEER, str(worker)])
        time.sleep(2)
        start = (cpu_seconds(daemon.pid), cpu_seconds(peer.pid))
        time.sleep(seconds)
        ours = (cpu_seconds(daemon.pid) - start[0]) / seconds * 100.0
        theirs = (cpu_seconds(peer.pid) - start[1]) / seconds * 100.0
        ours_mb, peer_mb = rss_bytes(daemon.pid) / 1048576.0, rss_bytes(peer.pid) / 1048576.0
        peer.terminate()
        peer.wait()
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(root)
    rows.append(("watcher idle CPU, %d s (%% of one core)" % seconds, "%.4f" % ours, "python 3 s /proc poll loop",
                 "%.4f" % theirs, ratio(ours, theirs), "< 0.05"))
    rows.append(("watcher resident memory (MB)", "%.1f" % ours_mb, "python 3 s /proc poll loop", "%.1f" % peer_mb,
                 ratio(ours_mb, peer_mb), "-"))


def ratio(ours, theirs):
    return "%.2f" % (ours / theirs) if theirs else "-"


def one_stop(worker, trigger):
    """Seconds from the worker crossing the memory limit to the worker being gone."""
    base = rss_bytes(worker)
    open(trigger, "w", encoding="ascii").close()   # pylint: disable=consider-using-with
    crossed = None
    while True:
        rss = rss_bytes(worker)
        now = time.monotonic()
        if rss is None:
            return now - crossed if crossed is not None else float("nan")
        if crossed is None and rss - base > LIMIT_MB * 1048576:
            crossed = now
        time.sleep(0.01)


def bench_stop(rows, runs=10):
    root = tempfile.mkdtemp(prefix="pyosquery-wd-stop-")
    triggers = [os.path.join(root, "go%d" % i) for i in range(runs)]
    schedule = {"grow%d" % i: {"query": GROWING.format(trigger=t), "interval": 1} for i, t in enumerate(triggers)}
    daemon = start_daemon(root, schedule, ["--watchdog_delay=1", "--watchdog_memory_limit=%d" % LIMIT_MB,
                                           "--watchdog_utilization_limit=100",
                                           "--watchdog_forced_shutdown_delay=%d" % FORCED_DELAY])
    times = []
    try:
        worker = None
        for trigger in triggers:
            worker = wait_worker(daemon.pid, previous=worker)
            times.append(one_stop(worker, trigger))
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(root)
    times.sort()
    rows.append(("memory limit crossed -> worker gone, %d runs: min / p50 / p90 / max (s)" % runs,
                 "%.2f / %.2f / %.2f / %.2f" % (times[0], statistics.median(times), times[int(runs * 0.9) - 1],
                                                times[-1]),
                 "osquery's bound: check interval + forced shutdown delay", "%d" % (3 + FORCED_DELAY), "-",
                 "max <= %d" % (3 + FORCED_DELAY + 1)))


def main():
    rows = []
    bench_idle(rows)
    bench_stop(rows)
    publish("watchdog", ("measurement", "ours", "peer", "peer", "ratio", "target"), rows)


if __name__ == "__main__":
    main()
