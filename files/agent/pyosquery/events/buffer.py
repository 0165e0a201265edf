"""Where the subscriber tables keep their events: a table in the agent's SQLite database.

`events` holds one row per event: an id (`eid`, increasing for ever: AUTOINCREMENT, so ids are
never reused after every event expired, and a scheduled query's saved mark stays meaningful),
the subscriber table, the event's unix time and the row as JSON. Two indexes serve the two ways
events are found: (subscriber, eid) for "since the last run" and events_max, (subscriber, time)
for `time` constraints and events_expiry. `event_marks` holds, per scheduled query and table,
the last event id that query's run logged (osquery's optimize marks), so a restarted agent does
not log an event twice.

The buffer has its own connection (to the store's file, whose WAL lets the scheduler's writes
and ours go on side by side; or its own in-memory database for an ephemeral store), used by the
hub's writer thread and by queries on the evented tables, one at a time under `lock`.
"""

import logging
import os
import threading

import apsw

LOG = logging.getLogger("pyosquery.events")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    eid INTEGER PRIMARY KEY AUTOINCREMENT, subscriber TEXT NOT NULL, time INTEGER NOT NULL, row TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_eid ON events (subscriber);
CREATE INDEX IF NOT EXISTS events_by_time ON events (subscriber, time);
CREATE TABLE IF NOT EXISTS event_marks (
    query TEXT NOT NULL, subscriber TEXT NOT NULL, eid INTEGER NOT NULL, PRIMARY KEY (query, subscriber));
"""
# (an index on (subscriber) alone holds (subscriber, eid): eid is the rowid, which ends every index entry)

READ_CHUNK = 1000       # rows read per trip under the lock: a long query never holds the writer off for long
TIME_OPERATORS = ("=", ">", ">=", "<", "<=")


class Buffer:
    """The events of every subscriber table, in one SQLite database (`path`, or ":memory:")."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.db = apsw.Connection(path)
        self.db.set_busy_timeout(5000)
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        with self.db:
            self.db.execute(SCHEMA)
        self.counts = dict(self.db.execute("SELECT subscriber, count(*) FROM events GROUP BY subscriber"))

    def close(self):
        with self.lock:
            self.db.close()

    # the writer thread

    def write(self, batch):
        """Add [(subscriber, time, row JSON)] in one transaction."""
        with self.lock, self.db:
            self.db.executemany("INSERT INTO events (subscriber, time, row) VALUES (?, ?, ?)", batch)
        for subscriber, _, _ in batch:
            self.counts[subscriber] = self.counts.get(subscriber, 0) + 1

    def trim(self, oldest, most):
        """Drop events older than `oldest` (unix time; None: keep all) and, per subscriber, all but
        the newest `most` (0: no limit); {subscriber: events dropped}. Index seeks only."""
        dropped = {}
        with self.lock, self.db:
            for subscriber, count in list(self.counts.items()):
                gone = 0
                if oldest is not None:
                    self.db.execute("DELETE FROM events WHERE subscriber = ? AND time < ?", (subscriber, oldest))
                    gone += self.db.changes()
                if most and count - gone > most:
                    self.db.execute("DELETE FROM events WHERE subscriber = ? AND eid <= (SELECT eid FROM events"
                                    " WHERE subscriber = ? ORDER BY eid DESC LIMIT 1 OFFSET ?)",
                                    (subscriber, subscriber, most))
                    gone += self.db.changes()
                if gone:
                    dropped[subscriber] = gone
                    self.counts[subscriber] = count - gone
        return dropped

    # the evented tables

    def read(self, subscriber, after, oldest, times=()):
        """(eid, time, row JSON) of `subscriber`'s events with eid > `after` and time >= `oldest`,
        in eid order, filtered by `times` ((operator, value), `=` with a frozenset for IN)."""
        where = ["subscriber = ?", "eid > ?"]
        args = [subscriber, after]
        if oldest is not None:
            where.append("time >= ?")
            args.append(oldest)
        for op, value in times:
            if op not in TIME_OPERATORS:
                continue
            if isinstance(value, frozenset):
                if not value:
                    return
                where.append("time IN (%s)" % ", ".join("?" * len(value)))
                args.extend(sorted(value, key=str))
            else:
                where.append("time %s ?" % op)
                args.append(value)
        sql = "SELECT eid, time, row FROM events WHERE %s ORDER BY eid LIMIT %d" % (" AND ".join(where), READ_CHUNK)
        while True:
            with self.lock:
                chunk = self.db.execute(sql, args).fetchall()
            yield from chunk
            if len(chunk) < READ_CHUNK:
                return
            args[1] = chunk[-1][0]

    def mark(self, query, subscriber):
        """The last event id the scheduled `query` logged from `subscriber` (0: none yet)."""
        with self.lock:
            row = self.db.execute("SELECT eid FROM event_marks WHERE query = ? AND subscriber = ?",
                                  (query, subscriber)).fetchone()
        return 0 if row is None else row[0]

    def keep_marks(self, queries):
        """Forget the marks of scheduled queries not in `queries`: one added back starts afresh."""
        with self.lock, self.db:
            kept = sorted(queries)
            self.db.execute("DELETE FROM event_marks WHERE query NOT IN (%s)" % ", ".join("?" * len(kept)), kept)

    def save_marks(self, query, marks):
        with self.lock, self.db:
            self.db.executemany("INSERT OR REPLACE INTO event_marks (query, subscriber, eid) VALUES (?, ?, ?)",
                                [(query, subscriber, eid) for subscriber, eid in marks.items()])


def open_buffer(path):
    """The Buffer at `path`; in memory, said as an error, when the database refuses it (full, read-only)."""
    try:
        return Buffer(path)
    except apsw.Error as error:
        if path == ":memory:":
            raise
        LOG.error("Cannot keep events in the database %s: %s; keeping them in memory (lost at exit)", path, error)
        return Buffer(":memory:")


def store_path(store):
    """The file of the agent's store, or ":memory:" when it runs in memory (ephemeral, or fallen back)."""
    name = store.db.filename
    return name if name and os.path.exists(name) else ":memory:"
