"""Evented tables, as osquery's publish/subscribe framework: publishers feed subscriber tables.

A publisher (events/inotify.py, events/audit/) owns its kernel resources and threads and calls
`emit(table, rows)`; the hub (hub.py) takes the rows into a bounded pending list and one writer
thread moves them in batches into the agent's SQLite database (buffer.py), where each subscriber
table keeps its events with a time index, bounded by --events_expiry and --events_max. The
evented virtual tables read them back: a scheduled query (with --events_optimize) only the events
since its previous run, anything else every event still kept.

The scheduler says which scheduled query runs through `scheduled(name)` (a context variable: the
socket's threads never see it), and after logging the rows calls `ScheduledRun.commit()`, which
saves the last event id read per table: the next run, even after a restart, starts after it.

Expiry is by age: an event older than --events_expiry seconds is deleted at the next batch
write (or within a minute when idle) and never returned. osquery's documentation words it as
"expire events_expiry seconds after being queried"; by age, the buffer stays bounded even for a
table nobody queries, and a scheduled query still sees each event once. 0 means no expiry, and an
--events_max of 0 no limit per table.

--disable_events (the default, as osquery's) turns all of it off: no hub, no thread, no kernel
resource, the tables return no rows.
"""

import contextlib
import contextvars


class PublisherError(Exception):
    """A publisher that cannot start (the message names the cause: "auditd holds the audit socket")."""


class ScheduledRun:
    """One scheduled query's run, as the evented tables it reads see it."""

    def __init__(self, name):
        self.name = name
        self.starts = {}        # subscriber table -> the event id this run reads after (the saved mark)
        self.marks = {}         # subscriber table -> the last event id this run read
        self.hub = None         # the hub that served an evented table, set when one is read

    @property
    def evented(self):
        """True when the query read an evented table: its rows are new events, not a snapshot to diff."""
        return self.hub is not None

    def commit(self):
        """Remember what this run read (call it once its rows are logged): the next run starts after."""
        if self.hub is not None and self.marks:
            self.hub.buffer.save_marks(self.name, self.marks)


_RUNNING = contextvars.ContextVar("pyosquery_scheduled_query", default=None)


@contextlib.contextmanager
def scheduled(name):
    """While inside, the evented tables read for the scheduled query `name` (--events_optimize)."""
    run = ScheduledRun(name)
    token = _RUNNING.set(run)
    try:
        yield run
    finally:
        _RUNNING.reset(token)


def running():
    """The ScheduledRun of this thread's scheduled query, or None (the shell, the socket)."""
    return _RUNNING.get()


_HUB = [None]


def install(hub):
    """Make `hub` the one the evented tables read (None: events off, the tables are empty)."""
    _HUB[0] = hub


def current():
    """The installed hub, or None (a function of its own name: `events.hub` is the module)."""
    return _HUB[0]
