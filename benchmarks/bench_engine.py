"""Engine benchmarks, each side by side with a native peer in one run, reported as ratios.

Run by `make bench` (never by `make test`). Writes its table into benchmarks/README.md
between the `engine` markers. Timings are medians of repeated runs, in milliseconds.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import publish  # noqa: E402  pylint: disable=wrong-import-position

from pyosquery.sql.engine import Engine  # noqa: E402  pylint: disable=wrong-import-position

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
PROCESS_SQL = "SELECT pid, name, cmdline, state, uid, resident_size, user_time FROM processes"
FILE_SQL = "SELECT path, size, mode, uid, gid, mtime, inode FROM file WHERE path LIKE '/usr/%%'"


def median_ms(action, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def command(args):
    return lambda: subprocess.run(args, stdout=subprocess.DEVNULL, check=True)


def sleepers(count):
    """`count` extra sleeping processes, so scans see a busy host."""
    return [subprocess.Popen(["sleep", "900"]) for _ in range(count)]


def make_tree(root, total_mb=256, file_mb=8):
    block = os.urandom(1 << 20)
    for i in range(total_mb // file_mb):
        sub = os.path.join(root, "d%02d" % (i % 4))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "f%03d.bin" % i), "wb") as handle:
            for _ in range(file_mb):
                handle.write(block)


def bench_processes(engine, rows):
    children = sleepers(1000)
    try:
        engine.query(PROCESS_SQL)        # warm: the table is connected, modules imported
        ours = median_ms(lambda: engine.query(PROCESS_SQL), 20)
        peer = median_ms(command(["ps", "-eo", "pid,comm,args,stat,uid,rss,time"]), 20)
        one = median_ms(lambda: engine.query("SELECT pid, name FROM processes WHERE pid = 1"), 200)
        full = median_ms(lambda: engine.query("SELECT pid, name FROM processes"), 20)
    finally:
        for child in children:
            child.kill()
        for child in children:
            child.wait()
    rows.append(("processes scan, 1,000 extra sleepers", ours, "ps -eo ...", peer, ours / peer, "<= 1.5"))
    rows.append(("processes WHERE pid = 1", one, "full scan (pid, name)", full, one / full, "< 0.02"))


def bench_hash(engine, rows):
    root = tempfile.mkdtemp(prefix="pyosquery-bench-")
    try:
        make_tree(root)
        files = sorted(os.path.join(d, f) for d, _, names in os.walk(root) for f in names)
        sql = "SELECT sha256 FROM hash WHERE path LIKE '%s/%%%%'" % root
        engine.query(sql)        # warm the page cache for both sides
        ours = median_ms(lambda: engine.query(sql), 3)
        peer = median_ms(command(["sha256sum"] + files), 3)
    finally:
        shutil.rmtree(root)
    rows.append(("hash of a 256 MB tree", ours, "sha256sum", peer, ours / peer, "<= 1.1"))


def bench_file(engine, rows):
    engine.query(FILE_SQL)
    ours = median_ms(lambda: engine.query(FILE_SQL), 3)
    peer = median_ms(command(["find", "/usr", "-printf", "%p %s %m %U %G %T@ %i\\n"]), 3)
    count = len(engine.query(FILE_SQL)[1])
    rows.append(("file LIKE '/usr/%%%%' (%d rows)" % count, ours, "find /usr -printf", peer, ours / peer, "<= 2"))


def bench_shell_start(rows):
    ours = median_ms(command([SHELL, "select 1"]), 20)
    peer = median_ms(command([sys.executable, "-c", "pass"]), 20)
    rows.append(("pyosqueryi 'select 1' (one-shot)", ours, "python3 -c pass", peer, ours / peer, "< 150 ms"))


def main():
    engine = Engine()
    rows = []
    bench_processes(engine, rows)
    bench_hash(engine, rows)
    bench_file(engine, rows)
    bench_shell_start(rows)
    cells = [(name, "%.2f" % ours, peer_name, "%.2f" % peer, "%.3f" % ratio, target)
             for name, ours, peer_name, peer, ratio, target in rows]
    publish("engine", ("measurement", "ours (ms)", "peer", "peer (ms)", "ratio", "target"), cells)


if __name__ == "__main__":
    main()
