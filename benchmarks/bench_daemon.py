"""Daemon benchmarks: idle cost with a 20-query schedule, and scheduler lateness under load.

Run by `make bench`. The idle daemon is measured side by side with its peer, a bare Python
process that wakes once a second as the scheduler does; lateness comes from the daemon's own
osquery_schedule_runs table. Results go into benchmarks/README.md between the `daemon` markers.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import BIN, children, cpu_seconds, rss_bytes, start_daemon  # noqa: E402  pylint: disable=wrong-import-position
from report import publish  # noqa: E402  pylint: disable=wrong-import-position

PEER = "import time\nwhile True:\n    time.sleep(1)\n"


def bench_idle(rows, seconds=60):
    root = tempfile.mkdtemp(prefix="pyosquery-idle-")
    schedule = {"q%02d" % i: {"query": "SELECT pid, name FROM processes WHERE pid = 1", "interval": 3600}
                for i in range(20)}
    daemon = start_daemon(root, schedule)
    peer = subprocess.Popen([sys.executable, "-c", PEER])
    try:
        time.sleep(5)        # start-up, first runs of the schedule
        worker = (children(daemon.pid) or [daemon.pid])[0]    # the watcher's worker runs the queries
        start = (cpu_seconds(worker), cpu_seconds(peer.pid))
        time.sleep(seconds)
        ours = (cpu_seconds(worker) - start[0]) / seconds * 100.0
        theirs = (cpu_seconds(peer.pid) - start[1]) / seconds * 100.0
        ours_mb, peer_mb = rss_bytes(worker) / 2 ** 20, rss_bytes(peer.pid) / 2 ** 20
    finally:
        for proc in (daemon, peer):
            proc.terminate()
            proc.wait()
        shutil.rmtree(root)
    rows.append(("worker idle CPU, 20 queries, %d s (%% of one core)" % seconds, "%.3f" % ours,
                 "python 1 Hz sleep loop", "%.3f" % theirs, "< 0.2"))
    rows.append(("worker idle resident memory (MB)", "%.1f" % ours_mb, "python 1 Hz sleep loop", "%.1f" % peer_mb, "< 40"))


def bench_lateness(rows, seconds=120):
    root = tempfile.mkdtemp(prefix="pyosquery-late-")
    schedule = {"q%02d" % i: {"query": "SELECT count(*) FROM processes", "interval": 1 + i % 10} for i in range(50)}
    daemon = start_daemon(root, schedule)
    try:
        time.sleep(seconds)
        out = subprocess.run([os.path.join(BIN, "pyosqueryi"), "--connect", os.path.join(root, "em"), "--json",
                              "SELECT lateness_ms, wall_ms FROM osquery_schedule_runs"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(root)
    runs = json.loads(out)
    late = sorted(float(r["lateness_ms"]) for r in runs)
    p50 = statistics.median(late)
    p99 = late[int(len(late) * 0.99) - 1]
    rows.append(("scheduler lateness, 50 queries at 1-10 s, %d s: p50 / p99 / max (ms, %d runs)"
                 % (seconds, len(late)), "%.0f / %.0f / %.0f" % (p50, p99, late[-1]), "-", "-", "p99 < 1000"))


def main():
    rows = []
    bench_idle(rows)
    bench_lateness(rows)
    publish("daemon", ("measurement", "ours", "peer", "peer", "target"), rows)


if __name__ == "__main__":
    main()
