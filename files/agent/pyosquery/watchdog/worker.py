"""The worker's side of the watchdog: notice a dead watcher, and serve what the watcher told us.

Importing this module stays cheap (no engine): the daemon's entry uses it to decide what it is.
"""

import json
import logging
import os
import threading

LOG = logging.getLogger("pyosquery.watchdog")
WORKER_ENV = "PYOSQUERY_WORKER"       # its presence makes the program a worker; the value is the watcher's pid
STATE_ENV = "PYOSQUERY_WATCHDOG"      # JSON: what the watcher tells the worker, for osquery_watchdog
CHECK_S = 3.0           # as osquery's WatcherWatcherRunner
EXIT_GRACE_S = 4.0      # after that the worker leaves even from the middle of a query


def is_worker():
    return WORKER_ENV in os.environ


def watcher_pid():
    """The watcher that started this worker, or -1 when this process is not a worker."""
    try:
        return int(os.environ.get(WORKER_ENV, "-1"))
    except ValueError:
        return os.getppid()


def state():
    """What the watcher passed at spawn: restarts, the last stop's reason and time, how the last worker ended."""
    try:
        return json.loads(os.environ.get(STATE_ENV, "{}"))
    except ValueError:
        return {}


def watch_watcher(stop):
    """A daemon thread: when the watcher is gone, ask the worker to stop (`stop` is a threading.Event),
    and leave at once if the worker is still busy after a grace period.

    The expected parent comes from the environment, so a watcher that died before this thread
    started is noticed too.
    """
    expected = watcher_pid()

    def loop():
        while not stop.wait(CHECK_S):
            if os.getppid() != expected:
                LOG.warning("osqueryd worker (%d) detected killed watcher (%d)", os.getpid(), expected)
                stop.set()
                threading.Event().wait(EXIT_GRACE_S)
                os._exit(0)    # pylint: disable=protected-access  # still inside a query: do not wait for it

    thread = threading.Thread(target=loop, name="watcher-watcher", daemon=True)
    thread.start()
    return thread
