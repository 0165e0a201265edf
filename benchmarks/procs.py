"""What the benchmarks read of a process from /proc, and how they start a daemon."""

import json
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid):
    """CPU time in ns precision from schedstat: an idle daemon uses less than one 10 ms clock tick a minute."""
    with open("/proc/%d/schedstat" % pid, encoding="ascii") as handle:
        return int(handle.read().split()[0]) / 1e9


def process_cpu_seconds(pid):
    """CPU time of all of a process's threads (schedstat, ns precision)."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, task), encoding="ascii") as handle:
            total += int(handle.read().split()[0])
    return total / 1e9


def rss_bytes(pid):
    """Resident bytes, or None once the process is gone (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                return None
        with open("/proc/%d/statm" % pid, "rb") as handle:
            return int(handle.read().split()[1]) * PAGE
    except OSError:
        return None


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid), encoding="ascii") as handle:
        return [int(p) for p in handle.read().split()]


def start_daemon(root, schedule, extra=(), packs=None, more=None):
    """pyosqueryd with its files under `root` and a config holding `schedule` (and `packs`, and the
    top-level keys in `more`, if given)."""
    config = os.path.join(root, "pyosquery.conf")
    with open(config, "w", encoding="utf-8") as handle:
        json.dump(dict({"schedule": schedule}, **({"packs": packs} if packs else {}), **(more or {})), handle)
    args = [os.path.join(BIN, "pyosqueryd"), "--flagfile=/dev/null", "--config_path=" + config,
            "--database_path=" + os.path.join(root, "db"), "--logger_path=" + os.path.join(root, "log"),
            "--pidfile=" + os.path.join(root, "pid"), "--extensions_socket=" + os.path.join(root, "em"),
            "--logger_stderr=false"] + list(extra)
    return subprocess.Popen(args)
