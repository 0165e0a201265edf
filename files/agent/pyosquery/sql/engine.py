"""The query engine: one in-memory apsw connection with every declared table attached."""

import threading

import apsw

from pyosquery.sql import readonly
from pyosquery.sql.budget import PROGRESS_STEPS
from pyosquery.sql.collations import COLLATIONS
from pyosquery.sql.vtable import QueryError, TableModule
from pyosquery.tables.spec import load_tables

__all__ = ["Engine", "QueryError"]


class _Prepared(Exception):
    """Raised from an exec trace to stop a statement once its columns are known."""


class Engine:
    """Runs read-only SQL over the agent's virtual tables.

    Tables are registered eponymous-only, so a table's schema is declared and its
    generator module imported only when a query first names it.
    """

    def __init__(self, tables=None, generators=None):
        # apsw refuses concurrent use of one connection from two threads; the daemon's
        # scheduler and socket threads share this engine, so each query holds the lock
        self.lock = threading.RLock()
        self.tables = load_tables() if tables is None else tables
        generators = generators or {}
        self.connection = apsw.Connection(":memory:")
        for name, compare in COLLATIONS.items():
            self.connection.create_collation(name, compare)
        for name, table in self.tables.items():
            self.connection.create_module(name, TableModule(table, generators.get(name)),
                                          use_bestindex_object=True, eponymous_only=True,
                                          read_only=True)
        self.connection.authorizer = readonly.authorize

    def add_table(self, table, generator):
        """Serve one more table (the daemon's osquery_* tables, extensions)."""
        self.tables[table.name] = table
        self.connection.create_module(table.name, TableModule(table, generator),
                                      use_bestindex_object=True, eponymous_only=True,
                                      read_only=True)

    def query(self, sql, budget=None):
        """Run `sql`; return (column names, list of row tuples) of its last statement.

        With a `budget` (pyosquery.sql.budget.Budget) the query stops with a QueryError saying
        why once it spends more CPU time or memory than the budget allows.
        """
        result = [[], []]

        def trace(cursor, statement, _bindings):
            # called before each statement runs: its columns are known even with no rows
            readonly.check_statement(cursor, statement)
            result[0] = [name for name, _ in cursor.get_description()]
            result[1] = []
            return True

        with self.lock:
            cursor = self.connection.cursor()
            cursor.exec_trace = trace
            meter = None if budget is None else budget.meter()
            if meter is not None:
                self.connection.set_progress_handler(meter, PROGRESS_STEPS)
            try:
                for row in cursor.execute(sql):
                    result[1].append(row)
            except apsw.InterruptError:
                if meter is not None and meter.reason:
                    raise QueryError("%s; it was stopped" % meter.reason) from None
                raise
            finally:
                if meter is not None:
                    self.connection.set_progress_handler(None)
        return result[0], result[1]

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
