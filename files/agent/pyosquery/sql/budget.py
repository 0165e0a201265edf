"""A budget for one query: the CPU time of the thread running it and the growth of the process's memory.

The daemon gives every query that arrives over the extension socket such a budget, smaller than
what the watchdog tolerates, so a client's expensive query is stopped and reported to that client
before the watcher stops the worker (which would blame the scheduled query that ran next).
SQLite calls the meter every PROGRESS_STEPS virtual-machine steps; a virtual table's rows count
as steps, so a long table walk is metered too.
"""

import math
import time

from pyosquery.scheduler.cost import resident_size

PROGRESS_STEPS = 20000      # a few milliseconds of SQLite work between checks
MEMORY_EVERY = 16           # reading /proc/self/statm costs more than a clock: every 16th check


class Budget:
    """Limits for one query: `cpu_ms` of its thread's CPU time, `memory_bytes` of resident growth,
    and, for a socket client's query, `gone()`: True once the client hung up (nobody waits for
    the answer: a Ctrl-C'd `pyosqueryi --connect`)."""

    def __init__(self, cpu_ms=math.inf, memory_bytes=math.inf, gone=None):
        self.cpu_ms = cpu_ms
        self.memory_bytes = memory_bytes
        self.gone = gone

    def meter(self):
        return Meter(self)

    def until_gone(self, gone):
        """This budget, also ending once `gone()` says the client hung up."""
        return Budget(self.cpu_ms, self.memory_bytes, gone)

    @classmethod
    def under_watchdog(cls, limits, cpu_limit_ms):
        """Half of what the watcher lets the worker use before it stops it.

        The watcher stops the worker after ceil(latency / interval) checks in a row over
        `cpu_limit_ms` each, or when its footprint passes the memory limit.
        """
        checks = max(1, math.ceil(limits.latency_s / limits.interval_s))
        return cls(cpu_limit_ms * max(1, checks - 1) / 2.0, limits.memory_mb * 1024 * 1024 // 2)


class Meter:
    """The progress handler of one run: True (abort) once the budget is spent; `reason` says which part."""

    def __init__(self, budget):
        self.budget = budget
        self.cpu0 = time.thread_time()
        self.rss0 = resident_size() if budget.memory_bytes != math.inf else 0
        self.calls = 0
        self.reason = None

    def __call__(self):
        self.calls += 1
        used_ms = (time.thread_time() - self.cpu0) * 1000.0
        if used_ms > self.budget.cpu_ms:
            self.reason = "the query used more than its CPU budget of %d ms" % self.budget.cpu_ms
        elif self.calls % MEMORY_EVERY == 0:
            if self.budget.memory_bytes != math.inf and resident_size() - self.rss0 > self.budget.memory_bytes:
                self.reason = "the query grew the agent's memory by more than its budget of %d MB" % (
                    self.budget.memory_bytes // (1024 * 1024))
            elif self.budget.gone is not None and self.budget.gone():
                self.reason = "the client hung up"
        return self.reason is not None
