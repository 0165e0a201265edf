"""osquery's watchdog limits per level, and the flags that override them, as data."""

import collections

Limits = collections.namedtuple(
    "Limits", "memory_mb utilization_percent respawn_limit respawn_delay latency_s interval_s")

# osquery's kWatchdogLimits: normal (0), restrictive (1), off (-1)
LEVELS = {
    0: Limits(memory_mb=200, utilization_percent=10, respawn_limit=4, respawn_delay=5, latency_s=12, interval_s=3),
    1: Limits(memory_mb=100, utilization_percent=5, respawn_limit=4, respawn_delay=5, latency_s=6, interval_s=3),
    -1: Limits(memory_mb=10000, utilization_percent=100, respawn_limit=1000, respawn_delay=1, latency_s=1000,
               interval_s=3),
}

# exit code osquery uses when the watcher or worker cannot go on (EXIT_CATASTROPHIC)
EXIT_CATASTROPHIC = 78


def for_values(values):
    """The limits the flags ask for: the level's table, then any override flag above 0.

    As in osquery, a level other than -1 and 1 gives the normal table.
    """
    level = values.watchdog_level if values.watchdog_level in (1, -1) else 0
    limits = LEVELS[level]
    overrides = {"memory_mb": values.watchdog_memory_limit,
                 "utilization_percent": values.watchdog_utilization_limit,
                 "latency_s": values.watchdog_latency_limit}
    return limits._replace(**{key: value for key, value in overrides.items() if value > 0})


def cpu_limit_ms(limits, cpus):
    """CPU time (user + system, ms) a process may use per check interval on `cpus` logical CPUs."""
    return min(limits.utilization_percent, 100) * limits.interval_s * 1000 * cpus // 100


def respawn_pause(limits, quick_restarts, max_delay):
    """Seconds to wait before the next worker after `quick_restarts` workers died too quickly."""
    return min(max_delay, limits.respawn_delay + 2 ** quick_restarts)
