"""The agent's one SQLite database: previous results, the executing-query marker, the
denylist, counters and schedule statistics.

WAL journal with synchronous=NORMAL: every committed transaction survives a killed
process (only power loss can cost the last ones), and a reader never sees a torn write.
Each public method is one transaction.
"""

import functools
import json
import logging
import os
import time

import apsw

from pyosquery import private_dirs

LOG = logging.getLogger("pyosquery.store")
# a database that is not one: moved aside and started afresh, as osquery does with a corrupt RocksDB
_CORRUPT = (apsw.NotADBError, apsw.CorruptError)
# what the disk or the system refuses: the store cannot be written (full, read-only, gone, I/O error)
_UNWRITABLE = (apsw.FullError, apsw.ReadOnlyError, apsw.CantOpenError, apsw.IOError, apsw.BusyError, OSError)
_UNUSABLE = _UNWRITABLE + _CORRUPT
# what a failed write may raise: a refusal, or the failed rollback of a transaction it ended (see _refusal)
_WRITE_FAULTS = _UNWRITABLE + (apsw.SQLError,)

RUNS_KEPT = 100

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    name TEXT PRIMARY KEY, sql TEXT NOT NULL, epoch INTEGER NOT NULL, counter INTEGER NOT NULL,
    rows TEXT NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS denylist (name TEXT PRIMARY KEY, expiry INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stats (
    name TEXT PRIMARY KEY, sql TEXT NOT NULL,
    executions INTEGER NOT NULL DEFAULT 0, last_executed INTEGER NOT NULL DEFAULT 0,
    wall_time INTEGER NOT NULL DEFAULT 0, wall_time_ms INTEGER NOT NULL DEFAULT 0,
    last_wall_time_ms INTEGER NOT NULL DEFAULT 0, user_time INTEGER NOT NULL DEFAULT 0,
    last_user_time INTEGER NOT NULL DEFAULT 0, system_time INTEGER NOT NULL DEFAULT 0,
    last_system_time INTEGER NOT NULL DEFAULT 0, average_memory INTEGER NOT NULL DEFAULT 0,
    last_memory INTEGER NOT NULL DEFAULT 0, output_size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS runs (
    name TEXT NOT NULL, started REAL NOT NULL, lateness_ms REAL NOT NULL, wall_ms REAL NOT NULL, user_ms REAL NOT NULL,
    system_ms REAL NOT NULL, memory INTEGER NOT NULL, rows INTEGER NOT NULL, output_size INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_name ON runs (name, started);
"""

STAT_COLUMNS = ("executions", "last_executed", "wall_time", "wall_time_ms", "last_wall_time_ms", "user_time",
                "last_user_time", "system_time", "last_system_time", "average_memory", "last_memory",
                "output_size")
RUN_COLUMNS = ("name", "started", "lateness_ms", "wall_ms", "user_ms", "system_ms", "memory", "rows", "output_size")


def _connect(path):
    """An open, initialised connection to the database at `path` (":memory:" for none)."""
    if path != ":memory:":
        private_dirs.ensure(os.path.dirname(os.path.abspath(path)), 0o750)
    db = apsw.Connection(path)
    try:
        db.set_busy_timeout(5000)
        if path != ":memory:":
            os.chmod(path, 0o600)
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        with db:
            db.execute(SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def _move_aside(path):
    """Rename a database and its WAL files to `<path>.corrupt.<unix time>[-wal|-shm]`; the new name."""
    aside = "%s.corrupt.%d" % (path, time.time())
    for suffix in ("", "-wal", "-shm"):
        if os.path.lexists(path + suffix):
            os.replace(path + suffix, aside + suffix)
    return aside


def _refusal(error):
    """The disk's refusal behind a failed write, or None when `error` is another fault.

    A disk that fills in the middle of a transaction makes SQLite roll it back itself; apsw's
    `with db:` then fails its own rollback ("no transaction is active"), and the full disk is
    only that error's context.
    """
    if isinstance(error, _UNWRITABLE):
        return error
    return error.__context__ if isinstance(error.__context__, _UNWRITABLE) else None


def _writes(method):
    """A store write that a full, read-only or failing disk must not turn into a dead daemon.

    The failure is reported once (with the path) until a write succeeds again; the write is lost,
    which costs at most a repeated differential line or a missing statistic.
    """
    @functools.wraps(method)
    def guarded(self, *args):
        try:
            result = method(self, *args)
        except _WRITE_FAULTS as raised:
            error = _refusal(raised)
            if error is None:
                raise
            if not self.failing:
                LOG.error("Cannot write the database %s: %s; the agent goes on without saving its state", self.path,
                          error)
            self.failing = True
            return None
        if self.failing:
            LOG.info("Writing the database %s again", self.path)
            self.failing = False
        return result
    return guarded


class Store:
    """Durable agent state in one SQLite file (or in memory for the shell and --ephemeral).

    A database that cannot be opened never stops the agent: a corrupt one is moved aside and a
    new one started, one the system refuses (read-only, full, no such directory) is replaced by
    an in-memory store, each said in the status log with the path.
    """

    def __init__(self, path=":memory:"):
        self.path = path
        self.failing = False
        try:
            self.db = _connect(path)
        except _CORRUPT as error:
            self.db = self._replace_corrupt(error)
        except _UNWRITABLE as error:
            self.db = self._fall_back(error)

    def _replace_corrupt(self, error):
        """Move a corrupt database aside and start a new one; in memory when it cannot be moved or made."""
        try:
            aside = _move_aside(self.path)
        except OSError as failure:      # e.g. a file mounted over the path: rename says EBUSY
            LOG.error("The database %s is corrupt (%s) and cannot be moved aside", self.path, error)
            return self._fall_back(failure)
        LOG.error("The database %s is corrupt (%s): moved to %s, starting a new one", self.path, error, aside)
        return self._connect_or_memory()

    def _connect_or_memory(self):
        try:
            return _connect(self.path)
        except _UNUSABLE as error:
            return self._fall_back(error)

    def _fall_back(self, error):
        LOG.error("Cannot open the database %s: %s; running on an in-memory store (state is lost at exit)",
                  self.path, getattr(error, "strerror", None) or error)
        return _connect(":memory:")

    def close(self):
        self.db.close()

    def integrity(self):
        """SQLite's own integrity check: 'ok' when the file is sound."""
        return self.db.execute("PRAGMA integrity_check").fetchall()[0][0]

    # settings: the executing-query marker, host and instance ids, splayed intervals

    def get(self, key, default=None):
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    @_writes
    def put(self, key, value):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, str(value)))

    # previous results, for differentials

    def previous(self, name):
        """(sql, epoch, counter, rows) stored for a query, or None on its first run."""
        row = self.db.execute("SELECT sql, epoch, counter, rows FROM results WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        return row[0], row[1], row[2], json.loads(row[3])

    @_writes
    def save_results(self, name, sql, epoch, counter, rows, now):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO results (name, sql, epoch, counter, rows, updated)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            (name, sql, epoch, counter, json.dumps(rows, separators=(",", ":")), now))

    # denylist

    def denylist(self):
        return dict(self.db.execute("SELECT name, expiry FROM denylist"))

    @_writes
    def deny(self, name, expiry):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO denylist (name, expiry) VALUES (?, ?)", (name, expiry))

    @_writes
    def allow(self, name):
        with self.db:
            self.db.execute("DELETE FROM denylist WHERE name = ?", (name,))

    # statistics

    def stats(self):
        """{name: dict of osquery_schedule's counters} for every query with statistics."""
        result = {}
        for row in self.db.execute("SELECT name, sql, %s FROM stats" % ", ".join(STAT_COLUMNS)):
            result[row[0]] = dict(zip(("sql",) + STAT_COLUMNS, row[1:]))
        return result

    @_writes
    def reset_stats(self, name, sql):
        """Zero a query's statistics and runs (its SQL changed, or it is new)."""
        with self.db:
            self.db.execute("DELETE FROM runs WHERE name = ?", (name,))
            self.db.execute("INSERT OR REPLACE INTO stats (name, sql) VALUES (?, ?)", (name, sql))

    @_writes
    def forget(self, names):
        """Drop statistics, runs and stored results of queries no longer scheduled."""
        with self.db:
            for name in names:
                for table in ("stats", "runs", "results"):
                    self.db.execute("DELETE FROM %s WHERE name = ?" % table, (name,))

    @_writes
    def record_run(self, name, stats, run):
        """Save a query's updated counters and one run row, keeping the last RUNS_KEPT runs."""
        with self.db:
            assignments = ", ".join("%s = ?" % column for column in STAT_COLUMNS)
            self.db.execute("UPDATE stats SET %s WHERE name = ?" % assignments,
                            tuple(stats[c] for c in STAT_COLUMNS) + (name,))
            self.db.execute("INSERT INTO runs (%s) VALUES (%s)" % (", ".join(RUN_COLUMNS), ", ".join("?" * len(RUN_COLUMNS))),
                            tuple(run[c] for c in RUN_COLUMNS))
            self.db.execute("DELETE FROM runs WHERE name = ? AND rowid NOT IN "
                            "(SELECT rowid FROM runs WHERE name = ? ORDER BY started DESC, rowid DESC LIMIT ?)",
                            (name, name, RUNS_KEPT))

    def runs(self):
        return [dict(zip(RUN_COLUMNS, row)) for row in
                self.db.execute("SELECT %s FROM runs ORDER BY name, started, rowid" % ", ".join(RUN_COLUMNS))]
