"""The watcher: runs no queries; starts the worker, checks it every 3 s, stops it when it overruns
its CPU or memory limits, and starts a new one with osquery's back-off.

The worker's executing-query marker survives the stop (the worker gets SIGUSR1 first), so the
next worker denylists the query that was running. What the watcher knows (restarts, why the last
worker stopped) goes to each new worker in its environment; the worker serves it in the
`osquery_watchdog` table.
"""

import json
import logging
import os
import signal
import syslog
import time

from pyosquery.watchdog import children
from pyosquery.watchdog import limits as limits_lib
from pyosquery.watchdog.extensions import Extensions
from pyosquery.watchdog.meter import Meter, read_usage
from pyosquery.watchdog.signals import Signals
from pyosquery.watchdog.worker import STATE_ENV, WORKER_ENV

LOG = logging.getLogger("pyosquery.watchdog")
# The worker's stop lines keep osquery's exact words, "osqueryd" included: alerting written for
# osquery's logs (and syslog) matches on them, and it must keep working on hosts running pyosqueryd.
WORKER = "osqueryd worker"


class Watcher:
    """The watcher's state and loop; `run` returns the process's exit code."""

    def __init__(self, values, command):
        self.values = values
        self.command = command
        self.limits = limits_lib.for_values(values)
        self.cpus = os.cpu_count() or 1
        self.pid = os.getpid()
        self.worker = None              # subprocess.Popen of the current worker
        self.meter = None
        self.spawned = 0.0              # monotonic time the current worker started
        self.restarts = 0               # workers started after the first
        self.quick_restarts = 0         # osquery's worker_restarts: workers that died too quickly
        self.last_stop = ("", 0)        # (reason, unix time) of the last stop for a limit
        self.last_exit = ""
        self.own_baseline = 0
        self.signals = None
        self.stopping = False
        self.extensions = Extensions(values, self.limits, self.cpus)

    # the loop

    def run(self):
        self.signals = Signals()
        self.extensions.start()
        code = None
        next_check = time.monotonic()
        while code is None and not self.stopping:
            if self.worker is None or self.worker.poll() is not None:
                code = self.replace_worker()        # at once: SIGCHLD wakes us when the worker dies
                next_check = time.monotonic() + self.limits.interval_s
            elif time.monotonic() >= next_check:
                code = self.check()
                # keep the 3 s rhythm; after a long stall restart it rather than check in a burst
                next_check = max(next_check + self.limits.interval_s, time.monotonic() + 1)
            if code is None:
                self.pause(next_check - time.monotonic(), wake_on_child=True)
        self.shutdown()
        return 0 if code is None else code

    def check(self):
        """The 3 s check: the worker, the extensions and the watcher itself; an exit code ends the loop."""
        code = self.check_worker()
        self.extensions.check(self.values.enable_extensions_watchdog)
        return code if code is not None else self.check_self()

    def pause(self, seconds, wake_on_child=False):
        """Sleep, forwarding SIGHUP to the worker; stop early on SIGTERM/SIGINT (or a child's death)."""
        deadline = time.monotonic() + seconds
        while not self.stopping:
            arrived = self.signals.wait(deadline - time.monotonic())
            if signal.SIGHUP in arrived and self.worker is not None and self.worker.poll() is None:
                os.kill(self.worker.pid, signal.SIGHUP)   # systemd's reload reaches the main pid: us
            if arrived & {signal.SIGTERM, signal.SIGINT}:
                self.stopping = True
            if time.monotonic() >= deadline or (wake_on_child and signal.SIGCHLD in arrived):
                return

    # the worker

    def replace_worker(self):
        if self.worker is not None:
            self.last_exit = children.exit_text(self.worker.returncode)
            LOG.info("%s (%d) %s", WORKER, self.worker.pid, self.last_exit)
            if self.worker.returncode == limits_lib.EXIT_CATASTROPHIC:
                LOG.error("Worker returned exit status")
                return limits_lib.EXIT_CATASTROPHIC
            if self.quick_restarts >= self.limits.respawn_limit:
                LOG.error("Too many worker restarts")
                return 1
            self.restarts += 1
            if time.monotonic() - self.spawned < self.limits.respawn_limit:
                self.quick_restarts += 1
                LOG.warning("%s respawning too quickly: %d times", WORKER, self.quick_restarts)
                self.pause(limits_lib.respawn_pause(self.limits, self.quick_restarts, self.values.watchdog_max_delay))
                if self.stopping:
                    return None
        self.start_worker()
        return None

    def start_worker(self):
        env = {WORKER_ENV: str(self.pid), STATE_ENV: json.dumps(self.state())}
        self.worker = children.spawn(self.command, env)
        self.spawned = time.monotonic()
        self.meter = Meter(self.limits, self.cpus, self.pid)    # a new baseline for every worker
        LOG.info("osqueryd watcher (%d) executing worker (%d)", self.pid, self.worker.pid)

    def state(self):
        reason, when = self.last_stop
        return {"watcher_pid": self.pid, "worker_restarts": self.restarts, "quick_restarts": self.quick_restarts,
                "last_stop_reason": reason, "last_stop_time": when, "last_exit": self.last_exit}

    def check_worker(self):
        reason = self.meter.check(self.worker.pid)
        if self.values.enable_watchdog_debug:
            LOG.debug("%s", self.meter.debug_line(self.worker.pid))
        if reason is None or time.monotonic() < self.spawned + self.values.watchdog_delay:
            return None
        return self.stop_worker(reason)

    def stop_worker(self, reason):
        """osquery's sequence: the stop line, SIGUSR1 (keep the marker), SIGTERM, then SIGKILL."""
        pid = self.worker.pid
        line = "%s (%d) stopping: %s" % (WORKER, pid, reason)
        LOG.warning("%s", line)
        syslog.syslog(syslog.LOG_WARNING, line)
        self.last_stop = (reason, int(time.time()))
        os.kill(pid, signal.SIGUSR1)
        if not children.stop(self.worker, self.values.watchdog_forced_shutdown_delay, WORKER):
            LOG.error("Watcher cannot stop worker process (%d).", pid)
            return limits_lib.EXIT_CATASTROPHIC
        return None

    # the watcher itself

    def check_self(self):
        """osquery's watcher also holds itself to the memory limit, and gives up when it grows past it."""
        usage = read_usage(self.pid)
        if usage is None:
            return None
        self.own_baseline = self.own_baseline or usage[2]
        footprint = usage[2] - self.own_baseline
        if footprint > self.limits.memory_mb * 1024 * 1024:
            LOG.error("Watcher has become unhealthy: Memory limits exceeded: %d bytes (limit is %dMB)",
                      footprint, self.limits.memory_mb)
            return limits_lib.EXIT_CATASTROPHIC
        return None

    def shutdown(self):
        """Stop the worker as osquery does on SIGTERM: alarm_timeout - 4 s of grace, then SIGKILL."""
        grace = max(self.values.alarm_timeout, 10) - 4
        if self.worker is not None and not children.stop(self.worker, grace, WORKER):
            LOG.error("Watcher cannot stop worker process (%d).", self.worker.pid)
        self.extensions.stop(grace)
