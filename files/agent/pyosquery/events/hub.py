"""The hub: publishers' events into the subscriber tables' buffer, and back out to queries.

`emit` is what publisher threads call: it encodes the rows (JSON, so the pending list holds
compact text, not dicts) and appends them to a pending list under a short lock, nothing more.
One writer thread wakes every second, or as soon as BATCH_ROWS are pending, takes the whole
list and writes it in one transaction, then applies --events_expiry and --events_max (index
seeks). The pending list is bounded in bytes (see pending_bound); rows that do not fit are
dropped and counted as lost per table, said in the status log at most once a second and shown
in osquery_events' hidden `lost` column.
"""

import ctypes
import json
import logging
import threading
import time

from pyosquery.events import PublisherError, registry, running
from pyosquery.events.buffer import open_buffer
from pyosquery.watchdog import limits as watchdog_limits

LOG = logging.getLogger("pyosquery.events")

FLUSH_SECONDS = 1.0
BATCH_ROWS = 1000
WARN_SECONDS = 1.0
IDLE_TRIM_SECONDS = 60.0     # with nothing written, expiry is applied this often (queries skip expired rows anyway)
WRITER_NAME = "pyoq-events"     # the writer thread's name in ps and /proc/<pid>/task/*/comm


def pending_bound(values):
    """The pending list's bound, in bytes of encoded rows: 1/20 of the watchdog's memory limit.

    At most two lists live at once (the one being written, the one filling meanwhile). Resident,
    a full list costs 1.7 times its bound for file_events-sized rows (~300 bytes of JSON, plus a
    str, a tuple and an int each: benchmarks/bench_events.py), less for bigger rows. So a burst
    costs at most about 17% of the limit (34 MB of the default 200 MB, 17 MB of the restrictive
    level's 100 MB) on top of an idle worker's ~35 MB: the watchdog never stops a worker for it.
    """
    memory_mb = watchdog_limits.for_values(values).memory_mb
    return max(memory_mb * 1024 * 1024 // 20, 1024 * 1024)


def _encode(row):
    return json.dumps(row, separators=(",", ":"), default=str)


class Hub:     # pylint: disable=too-many-instance-attributes  # the framework's one state
    """Publishers, the pending list, the writer thread and the buffer of one agent."""

    def __init__(self, values, path, classes=None):
        self.values = values
        self.buffer = open_buffer(path)
        self.bound = pending_bound(values)
        self.lock = threading.Lock()            # guards the pending list and the counters
        self.pending = []
        self.pending_bytes = 0
        self.received = {}                      # table -> events emitted since start
        self.lost = {}                          # table -> events dropped by the hub since start
        self.warned_lost = {}                   # table -> lost count last said in the status log
        self.disabled = frozenset()             # subscriber tables the config's `events` turns off
        self.publishers = None                  # name -> publisher wanted by the flags, once made
        self.active = set()                     # names of the started publishers
        self.classes = classes                  # [(name, class)], None: the registry's
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.writer = None
        self.writing_failed = False
        self.last_warning = 0.0
        self.last_trim = 0.0

    # publishers

    def _make_publishers(self):
        """Each registered publisher the flags want (once: the first config's options count)."""
        if self.publishers is not None:
            return
        self.publishers = {}
        classes = registry.publisher_classes() if self.classes is None else self.classes
        for name, cls in classes:
            try:
                publisher = cls(self.values, self.emit)
                if publisher.wanted():
                    self.publishers[name] = publisher
            except Exception as error:   # pylint: disable=broad-except  # one broken publisher, not the agent
                LOG.error("Event publisher %s cannot be set up: %s: %s", name, type(error).__name__, error)

    def configure(self, config, queries=None):
        """Apply a config (after each successful load): the `events` key, then each publisher's part;
        `queries`, the names scheduled, keep their marks (the others' go)."""
        self._make_publishers()
        self.disabled = disabled_subscribers(config.get("events") or {})
        if queries is not None:
            self.buffer.keep_marks(queries)
        for name, publisher in self.publishers.items():
            try:
                warnings = publisher.configure(config) or []
            except Exception as error:   # pylint: disable=broad-except  # the running agent goes on
                LOG.error("Event publisher %s cannot use the config: %s: %s", name, type(error).__name__, error)
                continue
            for warning in warnings:
                LOG.warning("%s", warning)

    def start(self):
        """Start the writer, then every publisher with a subscriber table turned on."""
        if self.writer is not None:
            return
        self._make_publishers()
        self.writer = threading.Thread(target=self._write_loop, name="events-writer", daemon=True)
        self.writer.start()
        for name, publisher in self.publishers.items():
            if not set(publisher.tables) - self.disabled:
                LOG.info("Event publisher %s: every subscriber disabled by the config; not started", name)
                continue
            try:
                publisher.start()
            except PublisherError as error:
                LOG.error("Event publisher %s cannot start: %s", name, error)
                continue
            except Exception as error:   # pylint: disable=broad-except  # the agent runs without it
                LOG.error("Event publisher %s cannot start: %s: %s", name, type(error).__name__, error)
                continue
            self.active.add(name)

    def stop(self):
        """Stop and join the publishers (their kernel resources go back), then write what is pending."""
        for name in sorted(self.active):
            try:
                self.publishers[name].stop()
            except Exception as error:   # pylint: disable=broad-except  # stop the others all the same
                LOG.error("Event publisher %s did not stop cleanly: %s: %s", name, type(error).__name__, error)
        self.active.clear()
        if self.writer is not None:
            self.stopping.set()
            self.wake.set()
            self.writer.join()
            self.writer = None
        self.buffer.close()

    # publisher threads

    def emit(self, table, rows):
        """Take `rows` (dicts) for `table`: encoded now, written within a second. Never blocks for long."""
        now = int(time.time())
        encoded = [(table, int(row.get("time") or now), _encode(row)) for row in rows]
        with self.lock:
            if table in self.disabled:
                return
            self.received[table] = self.received.get(table, 0) + len(encoded)
            room = self.bound - self.pending_bytes
            taken = 0
            for item in encoded:
                size = len(item[2])
                if size > room:
                    break
                room -= size
                taken += 1
            if taken < len(encoded):
                self.lost[table] = self.lost.get(table, 0) + len(encoded) - taken
                encoded = encoded[:taken]
            self.pending.extend(encoded)
            self.pending_bytes = self.bound - room
            full = len(self.pending) >= BATCH_ROWS
        if full:
            self.wake.set()

    # the writer thread

    def _write_loop(self):
        name_thread(WRITER_NAME)
        while not self.stopping.is_set():
            self.wake.wait(FLUSH_SECONDS)
            self.wake.clear()
            self.flush()
        self.flush()

    def flush(self):
        """Write what is pending in one transaction, then drop what expired or exceeds events_max."""
        with self.lock:
            batch, self.pending, self.pending_bytes = self.pending, [], 0
        written = not batch or self._guarded(lambda: self.buffer.write(batch), adds=True)
        if not written:
            with self.lock:
                for table, _, _ in batch:
                    self.lost[table] = self.lost.get(table, 0) + 1
        now = time.monotonic()
        if batch or now - self.last_trim >= IDLE_TRIM_SECONDS:
            self.last_trim = now
            expiry = self.values.events_expiry
            self._guarded(lambda: self.buffer.trim(int(time.time()) - expiry if expiry else None,
                                                   self.values.events_max), adds=False)
        self._warn_lost()

    def _guarded(self, action, adds):
        """Run a write on the buffer; a failing disk is said once, never raised, until a write that
        `adds` events succeeds (a trim that deletes nothing succeeds even on a full disk)."""
        try:
            action()
        except Exception as error:   # pylint: disable=broad-except  # a full disk must not end the writer
            if not self.writing_failed:
                LOG.error("Cannot write events to the database %s: %s: %s; new events are counted as lost",
                          self.buffer.path, type(error).__name__, error)
            self.writing_failed = True
            return False
        if adds and self.writing_failed:
            LOG.info("Writing events to the database %s again", self.buffer.path)
            self.writing_failed = False
        return True

    def _warn_lost(self):
        now = time.monotonic()
        if now - self.last_warning < WARN_SECONDS:
            return
        with self.lock:
            news = {table: count - self.warned_lost.get(table, 0) for table, count in self.lost.items()
                    if count > self.warned_lost.get(table, 0)}
            self.warned_lost.update({table: self.lost[table] for table in news})
        for table, count in sorted(news.items()):
            LOG.warning("Events lost: %d %s events dropped (%d since start): the pending list was full "
                        "(%d bytes) or the database refused them", count, table, self.lost[table], self.bound)
        if news:
            self.last_warning = now

    # the evented tables

    def rows(self, table, context):
        """The rows of `table` for one query: since the scheduled query's last run, else all kept."""
        if table in self.disabled:
            return
        run = running()
        after = 0
        if run is not None:
            run.hub = self
            after = run.starts.get(table)
            if after is None:
                after = run.starts[table] = self.buffer.mark(run.name, table)
        expiry = self.values.events_expiry
        oldest = int(time.time()) - expiry if expiry else None
        for eid, stamp, text in self.buffer.read(table, after, oldest, context.constraints.get("time", ())):
            row = json.loads(text)
            row["time"] = stamp
            row["eid"] = "%010d" % eid
            if run is not None and eid > run.marks.get(table, 0):
                run.marks[table] = eid
            yield row

    # osquery_events

    def counts(self):
        """({publisher: counts}, {subscriber table: counts}) with the hub's own drops in `lost`."""
        with self.lock:
            received, lost = dict(self.received), dict(self.lost)
        publishers, subscribers = {}, {}
        for table in set(received) | set(lost):     # events emitted by whoever, counted
            subscribers[table] = {"publisher": "", "subscriptions": 0, "events": received.get(table, 0),
                                  "refreshes": 0, "active": 0, "lost": lost.get(table, 0)}
        for name, publisher in (self.publishers or {}).items():
            counts = dict(publisher.counts())
            active = name in self.active and bool(counts.get("active", 1))
            counts["active"] = int(active)
            counts["lost"] = counts.get("lost", 0) + sum(lost.get(table, 0) for table in publisher.tables)
            publishers[name] = counts
            for table in publisher.tables:
                subscribers[table] = {"publisher": name, "subscriptions": 1, "events": received.get(table, 0),
                                      "refreshes": 0, "active": int(active and table not in self.disabled),
                                      "lost": lost.get(table, 0)}
        return publishers, subscribers


def name_thread(name):
    """Give the calling thread an OS-visible name (Linux prctl PR_SET_NAME), for ps -L and top -H."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(15, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass


def disabled_subscribers(events):
    """The subscriber tables the config's `events` turns off: listed in disable_subscribers and
    not in enable_subscribers (osquery's events_parser: an enabled name wins)."""
    enabled = set(events.get("enable_subscribers") or ())
    return frozenset(set(events.get("disable_subscribers") or ()) - enabled)
