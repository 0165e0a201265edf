"""file_events under a write storm: the inotify publisher's CPU per 1,000 events, side by side in one run.

A writer process rewrites 1,000 files in a 10-directory tree at RATE writes a second for SECONDS
(open with O_TRUNC, write 64 bytes, close: two events, IN_MODIFY and IN_CLOSE_WRITE, so two
UPDATED rows, as osquery gives). Taking turns, round after round, with the same writer:
  * none: nothing watches (what the writes cost by themselves);
  * inotifywait (Debian's inotify-tools, C): the same recursive watches and masks, one line per
    event to a file, no stat and no hash: the floor for reading the same queue;
  * pyosquery: the inotify publisher as the agent runs it (a stat and md5+sha1+sha256 per
    path per batch), its rows counted by the sink;
  * pyosqueryd: the whole agent (--disable_events=false --enable_file_events): the publisher,
    the hub and the events buffer in the store (--events_max trims it), watcher and worker.
CPU is the watching process's (for pyosqueryd, watcher and worker), all threads (schedstat), over
the writes and a short drain.
inotify-tools is installed with apt when missing.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import BIN, children, process_cpu_seconds, start_daemon  # noqa: E402  pylint: disable=wrong-import-position
from report import publish                  # noqa: E402  pylint: disable=wrong-import-position

RATE = int(os.environ.get("BENCH_FIM_RATE", "10000"))
SECONDS = float(os.environ.get("BENCH_FIM_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_FIM_ROUNDS", "3"))
DIRECTORIES, FILES = 10, 100
DRAIN = 1.0
EVENTS = "modify,close_write,create,delete,moved_from,moved_to,attrib"    # osquery's change mask

WRITER = """
import os, sys, time
paths, rate, seconds = sys.argv[3:], int(sys.argv[1]), float(sys.argv[2])
data, slot, done = b"x" * 64, 0.01, 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * rate)
    while done < due:
        fd = os.open(paths[done % len(paths)], os.O_WRONLY | os.O_TRUNC)
        os.write(fd, data)
        os.close(fd)
        done += 1
    time.sleep(slot)
times = os.times()
print(done, times.user + times.system)
"""

PUBLISHER = """
import sys, threading
from pyosquery.events.inotify import InotifyPublisher
from pyosquery.flags.values import Values
values = Values()
values.set("enable_file_events", True)
rows = [0, 0]
def sink(table, batch):
    rows[0] += len(batch)
    rows[1] += sum(1 for row in batch if row["hashed"] == 1)
publisher = InotifyPublisher(values, sink)
publisher.start()
warnings = publisher.configure({"file_paths": {"bench": [sys.argv[1] + "/%%"]}})
print("ready", warnings, flush=True)
sys.stdin.read()
counts = publisher.counts()
publisher.stop()
print(rows[0], counts["lost"], rows[1], flush=True)
"""


def _tree(root):
    paths = []
    for index in range(DIRECTORIES):
        directory = os.path.join(root, "d%d" % index)
        os.mkdir(directory)
        for number in range(FILES):
            path = os.path.join(directory, "f%d" % number)
            with open(path, "wb") as handle:
                handle.write(b"x" * 64)
            paths.append(path)
    return paths


def _write(paths):
    done = subprocess.run([sys.executable, "-c", WRITER, str(RATE), str(SECONDS)] + paths,
                          capture_output=True, text=True, check=True)
    writes, cpu = done.stdout.split()
    return int(writes), float(cpu)


def _none(_root, paths):
    writes, writer_cpu = _write(paths)
    return writes, writer_cpu, 0.0, 0, 0, 0


def _inotifywait(root, paths):
    out = os.path.join(root, "..", "inotifywait.out")
    watcher = subprocess.Popen(["inotifywait", "-m", "-r", "-e", EVENTS, "--format", "%e %w%f", "-o", out, root],
                               stderr=subprocess.PIPE, text=True)
    while "Watches established" not in watcher.stderr.readline():
        pass
    before = process_cpu_seconds(watcher.pid)
    writes, writer_cpu = _write(paths)
    time.sleep(DRAIN)
    cpu = process_cpu_seconds(watcher.pid) - before
    watcher.terminate()
    watcher.wait()
    with open(out, "rb") as handle:
        events = sum(1 for _ in handle)
    os.unlink(out)
    return writes, writer_cpu, cpu, events, 0, 0


def _pyosquery(root, paths):
    agent = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "files", "agent")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(agent))
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, root], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, env=env)
    ready = publisher.stdout.readline()
    assert ready.startswith("ready []"), ready
    before = process_cpu_seconds(publisher.pid)
    writes, writer_cpu = _write(paths)
    time.sleep(DRAIN)
    cpu = process_cpu_seconds(publisher.pid) - before
    rows, lost, hashed = publisher.communicate("")[0].split()
    return writes, writer_cpu, cpu, int(rows), int(lost), int(hashed)


def _file_events_counts(socket):
    """The events osquery_events counts for file_events, or None before the publisher is active."""
    sql = ("SELECT s.events, p.active FROM osquery_events s JOIN osquery_events p "
           "ON p.name = 'inotify' WHERE s.name = 'file_events'")
    done = subprocess.run([os.path.join(BIN, "pyosqueryi"), "--connect", socket, "--json", sql],
                          capture_output=True, text=True, check=False)
    rows = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else []
    if not rows or rows[0]["active"] != "1":
        return None
    return int(rows[0]["events"])


def _daemon_cpu(watcher):
    return sum(process_cpu_seconds(pid) for pid in [watcher] + children(watcher))


def _pyosqueryd(root, paths):
    home = tempfile.mkdtemp(dir=os.path.dirname(root))
    daemon = start_daemon(home, {}, ["--disable_events=false", "--enable_file_events"],
                          more={"file_paths": {"bench": [root + "/%%"]}})
    socket = os.path.join(home, "em")
    try:
        deadline = time.monotonic() + 60
        while (not os.path.exists(socket) or _file_events_counts(socket) is None) and time.monotonic() < deadline:
            time.sleep(0.2)
        events_before = _file_events_counts(socket)
        before = _daemon_cpu(daemon.pid)
        writes, writer_cpu = _write(paths)
        time.sleep(DRAIN)
        cpu = _daemon_cpu(daemon.pid) - before
        events = _file_events_counts(socket)
        with open(os.path.join(home, "log", "pyosqueryd.INFO"), encoding="utf-8") as handle:
            lost = handle.read().count("event queue overflowed")
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(home, ignore_errors=True)
    return writes, writer_cpu, cpu, events - events_before, lost, None


def _ensure_inotifywait():
    if shutil.which("inotifywait"):
        return
    subprocess.run(["apt-get", "install", "-y", "-q", "inotify-tools"], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def main():
    _ensure_inotifywait()
    contestants = (("none", _none), ("inotifywait", _inotifywait), ("pyosquery", _pyosquery),
                   ("pyosqueryd", _pyosqueryd))
    results = {name: [] for name, _ in contestants}
    with tempfile.TemporaryDirectory() as scratch:
        root = os.path.join(scratch, "tree")
        os.mkdir(root)
        paths = _tree(root)
        for _round in range(ROUNDS):
            for name, run in contestants:
                results[name].append(run(root, paths))
                print(name, results[name][-1], file=sys.stderr)
    rows = []
    for name, runs in results.items():
        per_thousand = [cpu * 1000 / events * 1000 for _, _, cpu, events, _, _ in runs if events]
        rows.append([name,
                     "%d-%d" % (min(r[0] for r in runs) / SECONDS, max(r[0] for r in runs) / SECONDS),
                     "%.0f-%.0f" % (min(r[1] for r in runs) * 1000 / SECONDS, max(r[1] for r in runs) * 1000 / SECONDS),
                     "%.0f-%.0f" % (min(r[2] for r in runs) * 1000 / SECONDS, max(r[2] for r in runs) * 1000 / SECONDS),
                     "%d-%d" % (min(r[3] for r in runs), max(r[3] for r in runs)),
                     "%.1f-%.1f" % (min(per_thousand), max(per_thousand)) if per_thousand else "-",
                     "%d" % max(r[4] for r in runs),
                     "%d-%d" % (min(r[5] for r in runs), max(r[5] for r in runs)) if name == "pyosquery" else "-"])
    ours = [r[2] / r[3] for r in results["pyosquery"] if r[3]]
    peer = [r[2] / r[3] for r in results["inotifywait"] if r[3]]
    ratios = sorted(a / b for a, b in zip(ours, peer))     # round by round
    rows.append(["pyosquery / inotifywait, CPU per event", "", "", "", "",
                 "%.2f-%.2fx" % (ratios[0], ratios[-1]) if ratios else "-", "", ""])
    whole = sorted(a[2] / a[3] / (b[2] / b[3]) for a, b in zip(results["pyosqueryd"], results["inotifywait"])
                   if a[3] and b[3])
    rows.append(["pyosqueryd / inotifywait, CPU per event", "", "", "", "",
                 "%.2f-%.2fx" % (whole[0], whole[-1]) if whole else "-", "", ""])
    publish("file-events", ["watcher", "writes/s", "writer CPU ms/s", "watcher CPU ms/s", "events",
                            "watcher CPU ms per 1,000 events", "queue overflows", "rows hashed"], rows)
    print(json.dumps({"pyosquery_vs_inotifywait_cpu_per_event": ratios}))


if __name__ == "__main__":
    main()
