"""The query engine: one in-memory apsw connection with every declared table attached."""

import threading

import apsw

from pyosquery.sql import readonly
from pyosquery.sql.budget import PROGRESS_STEPS
from pyosquery.sql.collations import COLLATIONS
from pyosquery.sql.planner import PlanBook
from pyosquery.sql.vtable import QueryError, TableModule
from pyosquery.tables.spec import load_foreign_tables, load_tables

__all__ = ["Engine", "QueryError"]


_END = object()     # no more rows


def _split(rows, starts):
    """(names, rows of that statement) per statement, from one cursor's rows and the statements' starts."""
    state = [next(rows, _END), len(starts) - 1]     # the row read ahead, and the statement that produced it

    def statement_rows(index):
        # once per row of every query: locals only, state written back when the statement ends
        row, started = state
        if started != index:
            return
        started = len(starts)
        while row is not _END:
            yield row
            row = next(rows, _END)
            if len(starts) != started:      # a later statement started (exec_trace) and produced `row`
                break
        state[:] = row, len(starts) - 1

    index = 0
    while index < len(starts):
        current = statement_rows(index)
        yield starts[index], current
        for _ in current:       # what the caller left unread
            pass
        index += 1


class _Prepared(Exception):
    """Raised from an exec trace to stop before a statement runs."""


class Engine:
    """Runs read-only SQL over the agent's virtual tables.

    Tables are registered eponymous-only, so a table's schema is declared and its
    generator module imported only when a query first names it.
    """

    def __init__(self, tables=None, generators=None, foreign=False):
        # apsw refuses concurrent use of one connection from two threads; the daemon's
        # scheduler and socket threads share this engine, so each query holds the lock
        self.lock = threading.RLock()
        self.tables = load_tables() if tables is None else tables
        generators = generators or {}
        self.plans = PlanBook()
        self.connection = apsw.Connection(":memory:")
        for name, compare in COLLATIONS.items():
            self.connection.create_collation(name, compare)
        for name, table in self.tables.items():
            self.connection.create_module(name, TableModule(table, generators.get(name), self.plans),
                                          use_bestindex_object=True, eponymous_only=True,
                                          read_only=True)
        self.connection.authorizer = readonly.authorize
        self.foreign = False
        if foreign:
            self.add_foreign_tables()

    def add_foreign_tables(self):
        """--enable_foreign: declare osquery's tables of other platforms (no rows here), as osquery does."""
        if self.foreign:
            return
        self.foreign = True
        for name, table in load_foreign_tables().items():
            if name not in self.tables:
                self.add_table(table, None)

    def add_table(self, table, generator):
        """Serve one more table (the daemon's osquery_* tables, extensions)."""
        self.tables[table.name] = table
        self.connection.create_module(table.name, TableModule(table, generator, self.plans),
                                      use_bestindex_object=True, eponymous_only=True,
                                      read_only=True)

    def statements(self, sql, budget=None):
        """(column names, rows) for each statement of `sql` in turn, streamed: `rows` is an iterator
        that runs the statement as it is read, to be read to its end before the next statement.

        The engine's lock is held until the last statement is read (or the generator is closed).
        With a `budget` (pyosquery.sql.budget.Budget) the query stops with a QueryError saying
        why once it spends more CPU time or memory than the budget allows.
        """
        starts = []     # the column names of each statement, appended as SQLite starts it

        def trace(cursor, statement, _bindings):
            readonly.check_statement(cursor, statement)
            starts.append([name for name, _ in cursor.get_description()])
            return True

        with self.lock:
            cursor = self.connection.cursor()
            cursor.exec_trace = trace
            meter = None if budget is None else budget.meter()
            if meter is not None:
                self.connection.set_progress_handler(meter, PROGRESS_STEPS)
            try:
                yield from _split(iter(cursor.execute(sql)), starts)
            except apsw.InterruptError:
                if meter is not None and meter.reason:
                    raise QueryError("%s; it was stopped" % meter.reason) from None
                raise
            finally:
                if meter is not None:
                    self.connection.set_progress_handler(None)

    def query(self, sql, budget=None):
        """Run `sql`; return (column names, list of row tuples) of its last statement."""
        result = ([], [])
        for names, rows in self.statements(sql, budget):
            result = (names, list(rows))
        return result

    def query_dicts(self, sql):
        """Run `sql`; return its rows as dicts (column name -> value)."""
        names, rows = self.query(sql)
        return [dict(zip(names, row)) for row in rows]

    def columns(self, sql):
        """[(name, declared type)] of the first statement of `sql`, without running it."""
        found = []

        def stop(cursor, statement, _bindings):
            readonly.check_statement(cursor, statement)
            found[:] = cursor.get_description()
            raise _Prepared()

        with self.lock:
            cursor = self.connection.cursor()
            cursor.exec_trace = stop
            try:
                cursor.execute(sql)
            except _Prepared:
                pass
        return [(name, decltype or "") for name, decltype in found]

    def explain(self, sql, query_plan=True):
        """Rows of EXPLAIN QUERY PLAN (or EXPLAIN) of the first statement of `sql`, nothing run.

        Planned afresh, not taken from the statement cache, so the planner sees the query again
        (the plan advisor listens to it); a statement after the first is never started.
        """
        rows, started = [], []

        def first_only(cursor, statement, _bindings):
            if started:
                raise _Prepared()
            readonly.check_statement(cursor, statement)
            started.append(statement)
            return True

        prefix = "EXPLAIN QUERY PLAN " if query_plan else "EXPLAIN "
        with self.lock:
            cursor = self.connection.cursor()
            cursor.exec_trace = first_only
            try:
                for row in cursor.execute(prefix + sql, can_cache=False):
                    rows.append(row)
            except _Prepared:
                pass
        return rows
