"""Engine benchmarks, each side by side with a native peer in one run, reported as ratios.

Run by `make bench` (never by `make test`). Writes its table into benchmarks/README.md
between the `engine` markers. Timings are medians of repeated runs, in milliseconds.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import process_cpu_seconds, start_daemon  # noqa: E402  pylint: disable=wrong-import-position
from report import publish  # noqa: E402  pylint: disable=wrong-import-position
from timing import children_cpu, interleaved_ms, median_ms, ratio_text  # noqa: E402  pylint: disable=wrong-import-position

from pyosquery.sql.engine import Engine  # noqa: E402  pylint: disable=wrong-import-position

SHELL = os.path.join(os.path.dirname(sys.executable), "pyosqueryi")
PROCESS_SQL = "SELECT pid, name, cmdline, state, uid, resident_size, user_time FROM processes"
SOCKET_SQL = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000) "
              "SELECT i AS pid, 'process-' || i AS name, '/usr/bin/thing --flag ' || i AS cmdline, i * 4096 AS size FROM r")
FILE_SQL = "SELECT path, size, mode, uid, gid, mtime, inode FROM file WHERE path LIKE '/usr/%%'"


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


FIND = ["find", "/usr", "-printf", "%p %s %m %U %G %T@ %i\\n"]


def file_rounds(engine, rounds):
    """The /usr listing against find -printf of the same columns, interleaved (see timing.interleaved_ms)."""
    engine.query(FILE_SQL)      # warm: page cache, the table connected
    return interleaved_ms(lambda: engine.query(FILE_SQL), command(FIND), rounds, peer_cpu=children_cpu)


def bench_file(engine, rows):
    figures = file_rounds(engine, 5)
    count = len(engine.query(FILE_SQL)[1])
    for kind, (ours, peer, ratios) in figures.items():
        rows.append(("file LIKE '/usr/%%%%' (%d rows), 5 interleaved rounds, %s" % (count, kind), ours,
                     "find /usr -printf", peer, ratios, "<= 2"))


def max_rss_mb(args):
    """The peak resident memory of one run of `args` (its own rusage, output to /dev/null)."""
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024.0


def bench_shell_memory(memory_rows):
    """The shell printing the whole /usr listing as CSV: streamed, its memory stays flat."""
    ours = max_rss_mb([SHELL, "--csv", FILE_SQL])
    peer = max_rss_mb(["find", "/usr", "-printf", "%p,%s,%m,%U,%G,%T@,%i\\n"])
    memory_rows.append(("pyosqueryi --csv file LIKE '/usr/%%' (peak RSS)", ours, "find /usr -printf", peer,
                        ours / peer, "flat (streamed)"))


def socket_rounds(engine, rounds):
    """20k rows through a daemon's socket (pyosqueryi --connect's client) against the same query run
    locally, interleaved (see timing.interleaved_ms)."""
    from pyosquery.extensions.client import ExtensionCallError, RemoteEngine   # pylint: disable=import-outside-toplevel
    root = tempfile.mkdtemp(prefix="bench-socket-")
    daemon = start_daemon(root, {}, ["--disable_watchdog"])
    try:
        while not os.path.exists(os.path.join(root, "em")):
            time.sleep(0.1)
        remote = RemoteEngine(os.path.join(root, "em"))
        for _attempt in range(50):      # the socket file exists from bind(), before listen() under load
            try:
                remote.query(SOCKET_SQL)
                break
            except ExtensionCallError:
                time.sleep(0.1)

        def client_and_daemon_cpu():
            return time.process_time() + process_cpu_seconds(daemon.pid)

        return interleaved_ms(lambda: remote.query(SOCKET_SQL), lambda: engine.query(SOCKET_SQL), rounds,
                              ours_cpu=client_and_daemon_cpu)
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(root, ignore_errors=True)


def bench_socket(engine, rows):
    for kind, (ours, peer, ratios) in socket_rounds(engine, 15).items():
        rows.append(("20k rows over the socket, 15 interleaved rounds, %s (client + daemon)" % kind, ours,
                     "the same query locally", peer, ratios, "<= 3"))


def bench_shell_start(rows):
    ours = median_ms(command([SHELL, "select 1"]), 20)
    peer = median_ms(command([sys.executable, "-c", "pass"]), 20)
    rows.append(("pyosqueryi 'select 1' (one-shot)", ours, "python3 -c pass", peer, ours / peer, "< 150 ms"))


def main():
    # First, while this process is small: a child's peak RSS counts the parent's pages it was forked with
    memory = []
    bench_shell_memory(memory)
    engine = Engine()
    rows = []
    bench_processes(engine, rows)
    bench_hash(engine, rows)
    bench_file(engine, rows)
    bench_socket(engine, rows)
    bench_shell_start(rows)
    cells = [(name, "%.2f" % ours, peer_name, "%.2f" % peer,
              ratio_text(ratio) if isinstance(ratio, list) else "%.3f" % ratio, target)
             for name, ours, peer_name, peer, ratio, target in rows]
    publish("engine", ("measurement", "ours (ms)", "peer", "peer (ms)", "ratio", "target"), cells)
    cells = [(name, "%.1f" % ours, peer_name, "%.1f" % peer, "%.1f" % ratio, target)
             for name, ours, peer_name, peer, ratio, target in memory]
    publish("shell-memory", ("measurement", "ours (MB)", "peer", "peer (MB)", "ratio", "target"), cells)


if __name__ == "__main__":
    main()
