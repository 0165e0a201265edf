"""One watched process's CPU and memory, read from /proc every check, against the limits.

CPU: the change in user + system time since the last check, against `cpu_limit_ms`; a limit
crossed on enough checks in a row to fill the latency limit stops the process. Memory: resident
size over the process's own baseline (its first measurement). Unlike osquery, whose watcher keeps
the first worker's baseline for every later worker, each process gets a new Meter and baseline.
"""

import os

from pyosquery.watchdog.limits import cpu_limit_ms

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def read_usage(pid):
    """(parent pid, CPU ms, resident bytes) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            stat = handle.read()
        with open("/proc/%d/statm" % pid, "rb") as handle:
            statm = handle.read().split()
    except OSError:
        return None
    # the command name in parentheses may hold spaces: the fields start after its closing parenthesis
    fields = stat.rsplit(b")", 1)[1].split()
    cpu_ms = (int(fields[11]) + int(fields[12])) * 1000 // TICKS_PER_SECOND
    return int(fields[1]), cpu_ms, int(statm[1]) * PAGE_SIZE


class Meter:
    """The counters of one process; `check` returns why it must stop, or None."""

    def __init__(self, limits, cpus, parent):
        self.limits = limits
        self.cpu_limit = cpu_limit_ms(limits, cpus)
        self.memory_limit = limits.memory_mb * 1024 * 1024
        self.parent = parent
        self.last_cpu_ms = 0        # as osquery: the first delta is the CPU used since the process started
        self.sustained = 0          # checks in a row over the CPU limit
        self.baseline = 0           # resident bytes at the first measurement
        self.last = (0, 0)          # (CPU ms in the last interval, footprint bytes), for debug lines

    def check(self, pid):
        usage = read_usage(pid)
        if usage is None or usage[0] != self.parent:
            return None             # gone, or the pid now belongs to someone else: nothing to judge
        cpu_ms, resident = usage[1], usage[2]
        delta = cpu_ms - self.last_cpu_ms
        self.last_cpu_ms = cpu_ms
        self.sustained = self.sustained + 1 if delta > self.cpu_limit else 0
        if not self.baseline:
            self.baseline = resident
        footprint = max(0, resident - self.baseline)
        self.last = (delta, footprint)
        if self.sustained and self.sustained * self.limits.interval_s >= self.limits.latency_s:
            return "Maximum sustainable CPU utilization limit %dms exceeded for %d seconds" % (
                self.cpu_limit, self.sustained * self.limits.interval_s)
        if footprint > self.memory_limit:
            return "Memory limits exceeded: %d bytes (limit is %dMB)" % (footprint, self.limits.memory_mb)
        return None

    def debug_line(self, pid):
        delta, footprint = self.last
        return "pid: %d, cpu: %dms/%dms, memory: %.2fMB/%dMB" % (
            pid, delta, self.cpu_limit, footprint / 1048576.0, self.limits.memory_mb)
