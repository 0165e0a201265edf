"""Autoloaded extensions: read osquery's autoload list, start each, restart the ones that die,
and, with --enable_extensions_watchdog, hold them to the same CPU and memory limits as the worker.
"""

import logging
import os
import stat
import threading
import time

from pyosquery.watchdog import children
from pyosquery.watchdog.limits import for_values
from pyosquery.watchdog.meter import Meter

LOG = logging.getLogger("pyosquery.watchdog")
QUICK_S = 4     # an extension that lived less than this "respawned too quickly" (osquery's RESPAWN_LIMIT)


def autoload_paths(list_path, allow_unsafe=False):
    """The extension binaries named by an autoload file, in order, the unsafe ones left out and logged.

    One path a line; empty lines and lines starting with # or ; are skipped; a directory stands
    for every file in it.
    """
    try:
        with open(list_path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except OSError:
        return []
    paths = []
    for line in lines:
        if not line or line[0] in "#;":
            continue
        if os.path.isdir(line):
            paths += [os.path.join(line, name) for name in sorted(os.listdir(line))]
        else:
            paths.append(line)
    safe = []
    for path in paths:
        problem = None if allow_unsafe else unsafe_reason(path)
        if problem:
            LOG.warning("Will not autoload extension with unsafe directory permissions: %s (%s)", path, problem)
        else:
            safe.append(path)
    return safe


def unsafe_reason(path):
    """Why osquery would refuse to run `path` as an extension, or None."""
    if not path.endswith(".ext"):
        return "the name must end in .ext"
    try:
        info = os.stat(path)
        parent = os.stat(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return "missing"
    if stat.S_ISDIR(info.st_mode):
        return "a directory"
    if parent.st_mode & stat.S_ISVTX:
        return "in a sticky-bit directory"
    if info.st_uid not in (0, os.getuid()):
        return "owned by another user"
    if not info.st_mode & stat.S_IXUSR or info.st_mode & stat.S_IWOTH:
        return "not executable, or world-writable"
    return None


class Extension:
    """One autoloaded extension process and its restart count."""

    def __init__(self, path):
        self.path = path
        self.proc = None
        self.started = 0.0
        self.meter = None
        self.restarts = 0


class Extensions:
    """The autoloaded extensions of one daemon; `check` is called on every watcher tick."""

    def __init__(self, values, limits, cpus):
        self.values = values
        self.limits = limits
        self.cpus = cpus
        self.items = [Extension(path) for path in autoload_paths(values.extensions_autoload, values.allow_unsafe)]

    def command(self, path):
        """osquery's command line for an autoloaded extension."""
        args = [path] + (["--verbose"] if self.values.verbose else [])
        return args + ["--socket", self.values.extensions_socket, "--timeout", str(self.values.extensions_timeout),
                       "--interval", str(self.values.extensions_interval)]

    def launch(self, item):
        # osquery puts the extension's own pid in OSQUERY_EXTENSION; its presence is what counts
        item.proc = children.spawn(self.command(item.path), {"OSQUERY_EXTENSION": str(os.getpid())})
        item.started = time.monotonic()
        item.meter = Meter(self.limits, self.cpus, os.getpid())

    def start(self):
        if self.values.disable_extensions:
            self.items = []
        for item in self.items:
            self.launch(item)

    def check(self, enforce):
        """Restart the dead; with `enforce`, stop and restart those over a limit."""
        now = time.monotonic()
        for item in self.items:
            if item.proc.poll() is not None:
                if now - item.started < QUICK_S:
                    LOG.warning("Extension respawning too quickly: %s", item.path)
                item.restarts += 1
                self.launch(item)
                continue
            reason = item.meter.check(item.proc.pid)
            if enforce and reason and now - item.started >= self.values.watchdog_delay:
                LOG.warning("osquery extension %s (%d) stopping: %s", item.path, item.proc.pid, reason)
                children.stop(item.proc, self.values.watchdog_forced_shutdown_delay, "osquery extension")

    def stop(self, grace_s):
        for item in self.items:
            if item.proc is not None:
                children.stop(item.proc, grace_s, "osquery extension")


def keep_in_thread(values, stop):
    """With --disable_watchdog there is no watcher: keep the autoloaded extensions running from a
    thread of the daemon itself, restarting the dead ones, with no limits (as osquery)."""
    keeper = Extensions(values, for_values(values), os.cpu_count() or 1)
    if not keeper.items:
        return None

    def loop():
        keeper.start()
        while not stop.wait(3.0):
            keeper.check(enforce=False)
        keeper.stop(max(values.alarm_timeout, 10) - 4)

    thread = threading.Thread(target=loop, name="extensions", daemon=True)
    thread.start()
    return thread
