"""The agent's one SQLite database: previous results, the executing-query marker, the
denylist, counters and schedule statistics.

WAL journal with synchronous=NORMAL: every committed transaction survives a killed
process (only power loss can cost the last ones), and a reader never sees a torn write.
Each public method is one transaction.
"""

import json
import os

import apsw

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


class Store:
    """Durable agent state in one SQLite file (or in memory for the shell and --ephemeral)."""

    def __init__(self, path=":memory:"):
        if path != ":memory:":
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, mode=0o750, exist_ok=True)
        self.path = path
        self.db = apsw.Connection(path)
        self.db.set_busy_timeout(5000)
        if path != ":memory:":
            os.chmod(path, 0o600)
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        with self.db:
            self.db.execute(SCHEMA)

    def close(self):
        self.db.close()

    def integrity(self):
        """SQLite's own integrity check: 'ok' when the file is sound."""
        return self.db.execute("PRAGMA integrity_check").fetchall()[0][0]

    # settings: the executing-query marker, host and instance ids, splayed intervals

    def get(self, key, default=None):
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

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

    def save_results(self, name, sql, epoch, counter, rows, now):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO results (name, sql, epoch, counter, rows, updated)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            (name, sql, epoch, counter, json.dumps(rows, separators=(",", ":")), now))

    # denylist

    def denylist(self):
        return dict(self.db.execute("SELECT name, expiry FROM denylist"))

    def deny(self, name, expiry):
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO denylist (name, expiry) VALUES (?, ?)", (name, expiry))

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

    def reset_stats(self, name, sql):
        """Zero a query's statistics and runs (its SQL changed, or it is new)."""
        with self.db:
            self.db.execute("DELETE FROM runs WHERE name = ?", (name,))
            self.db.execute("INSERT OR REPLACE INTO stats (name, sql) VALUES (?, ?)", (name, sql))

    def forget(self, names):
        """Drop statistics, runs and stored results of queries no longer scheduled."""
        with self.db:
            for name in names:
                for table in ("stats", "runs", "results"):
                    self.db.execute("DELETE FROM %s WHERE name = ?" % table, (name,))

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
