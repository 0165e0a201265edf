"""What a query costs the worker: wall time, CPU time and memory, measured around its run,
and osquery's rules for folding one run into the osquery_schedule counters."""

import resource
import time

_PAGE = resource.getpagesize()


def resident_size():
    """The worker's resident memory in bytes (statm's second field, one small read)."""
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * _PAGE


def _cpu_ms():
    # the scheduler thread's own CPU: the socket thread's work is not charged to queries
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime * 1000.0, usage.ru_stime * 1000.0


class Cost:
    """One execution's measurements."""

    __slots__ = ("started", "wall_ms", "user_ms", "system_ms", "memory")

    def __init__(self, started, wall_ms, user_ms, system_ms, memory):
        self.started = started
        self.wall_ms = wall_ms
        self.user_ms = user_ms
        self.system_ms = system_ms
        self.memory = memory


def measured(action):
    """Run `action()`; return (its result, Cost)."""
    started = time.time()
    user0, system0 = _cpu_ms()
    rss0 = resident_size()
    clock0 = time.perf_counter()
    result = action()
    wall_ms = (time.perf_counter() - clock0) * 1000.0
    user1, system1 = _cpu_ms()
    memory = resident_size() - rss0
    return result, Cost(started, wall_ms, user1 - user0, system1 - system0, memory)


def fold(stats, cost, size, now):
    """osquery's recordQueryPerformance: update the counters of one query in place.

    CPU and memory only count when they grew (so `last_*` can be stale, as in osquery);
    wall_time adds whole seconds, so short runs add 0 there.
    """
    user_ms, system_ms, wall_ms = int(round(cost.user_ms)), int(round(cost.system_ms)), int(round(cost.wall_ms))
    if user_ms > 0:
        stats["user_time"] += user_ms
        stats["last_user_time"] = user_ms
    if system_ms > 0:
        stats["system_time"] += system_ms
        stats["last_system_time"] = system_ms
    if cost.memory > 0:
        executions = stats["executions"]
        stats["average_memory"] = (stats["average_memory"] * executions + cost.memory) // (executions + 1)
        stats["last_memory"] = cost.memory
    stats["last_wall_time_ms"] = wall_ms
    stats["wall_time_ms"] += wall_ms
    stats["wall_time"] += wall_ms // 1000
    stats["output_size"] += size
    stats["executions"] += 1
    stats["last_executed"] = int(now)
    return stats
