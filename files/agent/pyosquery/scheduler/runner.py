"""The scheduler: osquery's one-second tick, splay, denylist, discovery and result logging.

Step `i` starts at the current unix time and goes up by one per step; a query is due when
`i % splayed_interval == 0`, so runs line up with the clock. A step that overruns is
caught up by sleeping less, until the accumulated drift passes schedule_max_drift.
"""

import contextlib
import logging
import math
import re
import threading
import time

from pyosquery import events
from pyosquery.logger import results
from pyosquery.scheduler import diff
from pyosquery.scheduler.cost import fold, measured
from pyosquery.scheduler.splay import splayed_interval
from pyosquery.store.db import STAT_COLUMNS

LOG = logging.getLogger("pyosquery.scheduler")
MARKER = "executing_query"
_PLAN_INDEX = re.compile(r"VIRTUAL TABLE INDEX (\d+):")


def reads_only_events(engine, sql):
    """True when every table `sql` reads is an evented one: the tables of its plan, as osquery finds
    them with EXPLAIN QUERY PLAN (our plan numbers name the table even behind an alias)."""
    try:
        rows = engine.explain(sql)
    except Exception:   # pylint: disable=broad-except  # a query that cannot be planned reads what it reads
        return False
    plans = engine.plans.plans
    names = {plans[int(found.group(1))].table for found in (_PLAN_INDEX.search(str(row[-1])) for row in rows) if found}
    return bool(names) and all(getattr(engine.tables.get(name), "evented", False) for name in names)


class Scheduler:
    """Runs the active queries of a config on the engine and logs their results."""

    def __init__(self, engine, store, log, values, packs, host):
        self.engine = engine
        self.store = store
        self.log = log
        self.values = values
        self.host = host                 # callable: the host identifier for result lines
        self.packs = packs               # pyosquery.scheduler.packs.PackSet
        self.stats = store.stats()
        self.started = set()             # queries with startup_priority that already ran
        self.warned = set()
        self.resource_limit_hit = False  # set by SIGUSR1: keep the marker so the query is denylisted
        self.decorations = {}
        self.splays = {}                 # (name, interval) -> splayed interval, read once from the store
        self.stopping = threading.Event()   # the run loop's stop event

    # configuration

    def use(self, packs):
        """Switch to a new set of packs: stats reset where SQL changed, removed queries forgotten."""
        old = set(self.stats)
        current = {}
        for query in packs.all_queries():
            current[query.name] = query
            saved = self.stats.get(query.name)
            if saved is None or saved["sql"] != query.sql:
                if saved is not None:
                    LOG.info("Clearing performance stats for query: %s", query.name)
                self.store.reset_stats(query.name, query.sql)
                self.stats[query.name] = dict({c: 0 for c in STAT_COLUMNS}, sql=query.sql)
        gone = old - set(current)
        if gone:
            self.store.forget(sorted(gone))
            for name in gone:
                self.stats.pop(name, None)
        self.packs = packs
        self.decorations = packs.decorate("load", self.engine)

    # denylist

    def denylisted(self, query, now):
        """True when the query is denylisted and the denylist still applies."""
        expiry = self.store.denylist().get(query.name)
        if expiry is None:
            return False
        if not self._still_denied(query, expiry, now):
            self.store.allow(query.name)
            LOG.info("Scheduled denylisted query has expired: %s", query.name)
            return False
        if query.name not in self.warned:
            self.warned.add(query.name)
            LOG.warning("The caller does not want denied queries, skipping denied scheduled query: %s", query.name)
        return True

    def _still_denied(self, query, expiry, now):
        """osquery's rule: a denial ends at its expiry, for a query with `denylist: false`, and for one
        that reads only evented tables (their events would wait unread) unless --events_enforce_denylist."""
        if now > expiry or not query.denylist:
            return False
        return self.values.events_enforce_denylist or not reads_only_events(self.engine, query.sql)

    def check_marker(self):
        """At start: a query left marked as executing may have killed the last worker."""
        name = self.store.get(MARKER, "")
        if not name:
            return
        LOG.warning("Scheduled query may have failed: %s", name)
        self.store.put(MARKER, "")
        if not self.values.disable_watchdog:
            self.store.deny(name, int(time.time()) + self.values.denylist_duration)

    # the loop

    def run(self, stop, between_steps=None):
        """Tick until `stop` (a threading.Event) is set or schedule_timeout passes."""
        self.stopping = stop
        # start on a whole second, so step i begins at unix time i and lateness is the queries' own
        now = time.time()
        stop.wait(math.ceil(now) - now)
        i = int(round(time.time()))
        first = i
        drift = 0.0
        while not stop.is_set():
            if between_steps is not None:
                between_steps(i)
            began = time.monotonic()
            self.step(i)
            i += 1
            if self.values.schedule_timeout and i - first >= self.values.schedule_timeout:
                return
            took = time.monotonic() - began
            if took + drift < 1:
                stop.wait(1 - took - drift)
                drift = 0.0
            else:
                drift += took - 1
                if drift > self.values.schedule_max_drift:
                    drift = 0.0

    def step(self, i):
        now = time.time()
        for query in self.packs.active_queries(self.engine, now):
            if self.stopping.is_set():
                return      # no new query after a stop request: the marker must name the one that ran
            key = (query.name, query.interval)
            interval = self.splays.get(key)
            if interval is None:
                percent = self.values.schedule_splay_percent
                interval = self.splays[key] = splayed_interval(self.store, query.name, query.interval, percent)
            due = interval > 0 and i % interval == 0
            if query.startup_priority is not None and query.name not in self.started:
                due = True
            if due and not self.denylisted(query, now):
                self.started.add(query.name)
                self.execute(query, i)
        if i % 60 == 0:
            self.decorations.update(self.packs.decorate_interval(self.engine, i))

    # one query

    def execute(self, query, due):
        """Run one query with the engine to ourselves; the marker names it only meanwhile.

        The marker is written once the engine is ours: a socket client's query may hold it, and
        a worker stopped for that client's query must not blame this one, which only waited.
        """
        if self.values.schedule_lognames:
            LOG.info("Executing scheduled query %s", query.name)
        decorations = dict(self.decorations)
        decorations.update(self.packs.decorate("always", self.engine))
        with self.engine.lock:
            if self.stopping.is_set():
                return      # the stop came while we waited: this query never ran
            self.store.put(MARKER, query.name)
            try:
                self._execute(query, due, decorations)
            finally:
                if not self.resource_limit_hit:     # stopped for a limit: the marker must stay
                    self.store.put(MARKER, "")

    def _execute(self, query, due, decorations):
        # --events_optimize: the evented tables see which query runs, and give only its new events
        optimized = events.scheduled(query.name) if self.values.events_optimize else contextlib.nullcontext()
        try:
            with optimized as run:
                (names, rows), cost = measured(lambda: self.engine.query(query.sql))
        except Exception as error:   # pylint: disable=broad-except  # one bad query must not stop the rest
            LOG.error("Error executing scheduled query %s: %s", query.name, error)
            return
        size = diff.output_size(names, rows)
        records = diff.as_records(names, rows)
        item = {"name": query.name, "host": self.host(), "now": cost.started, "epoch": self.values.schedule_epoch,
                "numerics": self.values.logger_numerics, "decorations": decorations,
                "top_level": self.values.decorations_top_level}
        try:
            if query.snapshot:
                self.log.snapshots(results.snapshot_lines(item, records, self.values.logger_snapshot_event_type))
            elif run is not None and run.evented:
                self._new_events(query, item, records)
            else:
                self._differential(query, item, records)
            if run is not None:
                run.commit()    # logged: the next run starts after these events
        except results.NotWritten:
            pass    # the log reported it; the stored rows stay as they were, so the next run logs the change
        stats = fold(self.stats[query.name], cost, size, time.time())
        run = {"name": query.name, "started": cost.started, "lateness_ms": max(0.0, (cost.started - due) * 1000.0),
               "wall_ms": cost.wall_ms, "user_ms": cost.user_ms, "system_ms": cost.system_ms,
               "memory": cost.memory, "rows": len(rows), "output_size": size}
        self.store.record_run(query.name, stats, run)

    def _differential(self, query, item, records):
        """Log what changed since the stored rows, then store the new rows (at-least-once)."""
        epoch = item["epoch"]
        previous = self.store.previous(query.name)
        if previous is None or previous[1] != epoch:
            if previous is None:
                LOG.info("Storing initial results for new scheduled query: %s", query.name)
            else:
                LOG.info("New Epoch %s for scheduled query %s", epoch, query.name)
            added, removed, counter = records, [], 0
        else:
            sql, _, counter, rows = previous
            if sql != query.sql:
                LOG.info("Scheduled query has been updated: %s", query.name)
            added, removed = diff.differential(rows, records)
            if not added and not removed:
                if sql != query.sql:
                    self.store.save_results(query.name, query.sql, epoch, counter, rows, int(item["now"]))
                return
            counter += 1
        item["counter"] = counter
        self._log_changes(item, added, removed if query.removed else [])
        self.store.save_results(query.name, query.sql, epoch, counter, records, int(item["now"]))

    def _log_changes(self, item, added, removed):
        if self.values.logger_event_type:
            self.log.results(results.event_lines(item, added, removed))
        else:
            self.log.results([results.batch_line(item, added, removed)])

    def _new_events(self, query, item, records):
        """osquery's addNewEvents: every row is `added`, nothing is kept to diff against, and the
        counter goes up by one per logged run, starting at 1 on a new epoch."""
        if not records:
            return
        epoch = item["epoch"]
        previous = self.store.previous(query.name)
        counter = previous[2] + 1 if previous is not None and previous[1] == epoch else 1
        item["counter"] = counter
        self._log_changes(item, records, [])
        self.store.save_results(query.name, query.sql, epoch, counter, [], int(item["now"]))

    # osquery_schedule

    def schedule_rows(self):
        now = time.time()
        denied = self.store.denylist()
        rows = []
        for query in self.packs.active_queries(self.engine, now, count=False):
            stats = self.stats.get(query.name) or {c: 0 for c in STAT_COLUMNS}
            row = {c: stats[c] for c in STAT_COLUMNS}
            denial = denied.get(query.name)
            row.update(name=query.name, query=query.sql, interval=query.interval,
                       denylisted=int(denial is not None and self._still_denied(query, denial, now)))
            rows.append(row)
        return rows
