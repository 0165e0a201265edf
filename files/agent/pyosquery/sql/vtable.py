"""One generic apsw virtual-table module that serves every declared table."""

import importlib
from operator import itemgetter

from pyosquery import events
from pyosquery.sql.planner import Planner
from pyosquery.tables.context import QueryContext


class QueryError(Exception):
    """A query that cannot run as written, with a message meant for the user."""


def _no_rows(_context):
    return ()


def _events_generator(name):
    def gen_events(context):
        current = events.current()
        return () if current is None else current.rows(name, context)
    return gen_events


def load_generator(table):
    """The table's generator function: `gen_<table>` in `pyosquery.tables.<module>`.

    Evented tables read the events hub's buffer (no rows when events are off, as osquery with
    --disable_events); foreign tables have no module and no rows.
    """
    if table.evented:
        return _events_generator(table.name)
    if table.module is None:
        return _no_rows
    module = importlib.import_module("pyosquery.tables." + table.module)
    return getattr(module, "gen_" + table.name)


class TableModule:
    """apsw VTModule for one table (registered eponymous-only under the table's name)."""

    def __init__(self, table, generator=None, book=None):
        self.table = table
        self.generator = generator
        self.book = book

    def Create(self, _connection, _module, _database, _name, *_args):   # noqa: N802 (apsw API)
        if self.generator is None:
            self.generator = load_generator(self.table)
        return self.table.create_sql(), VirtualTable(self.table, self.generator, self.book)

    Connect = Create


class VirtualTable:
    """apsw VTTable: plans through the shared Planner, reads through the generator."""

    def __init__(self, table, generator, book=None):
        self.table = table
        self.generator = generator
        self.planner = Planner(table, book, getattr(generator, "exact_like", None))
        self.names = self.planner.names
        self.cursor = TupleCursor if getattr(generator, "tuple_rows", False) else Cursor
        # a tuple row holds the declared columns; with alias columns (SQLite's columns after those)
        # each row is laid out again in SQLite's order, so that a cell is always row[number]
        declared = [c.name for c in table.columns]
        widened = len(self.names) > len(declared) and self.cursor is TupleCursor
        self.layout = itemgetter(*(declared.index(name) for name in self.names)) if widened else None

    def BestIndexObject(self, info):   # noqa: N802
        return self.planner.best_index(info)

    def Open(self):   # noqa: N802
        return self.cursor(self)

    def rows(self, context):
        """The generator's rows for one Filter, as the cursor reads them."""
        rows = self.generator(context)
        return iter(rows) if self.layout is None else map(self.layout, rows)

    def Disconnect(self):   # noqa: N802
        pass

    Destroy = Disconnect


class Cursor:
    """apsw VTCursor over the rows (dicts) a generator yields."""

    def __init__(self, vtable):
        self.vtable = vtable
        self.names = vtable.names
        self.rows = iter(())
        self.row = None
        self.rowid = 0

    def Filter(self, number, _description, arguments):   # noqa: N802
        vtable = self.vtable
        plan = vtable.planner.book.plans[number]
        if plan.missing_required:
            raise QueryError("table %s needs a constraint on %s (for example WHERE %s = '...')"
                             % (vtable.table.name, " or ".join(vtable.table.required),
                                vtable.table.required[0]))
        constraints = {}
        for (name, op), value in zip(plan.pushed, arguments):
            if isinstance(value, set):
                value = frozenset(value)
            constraints.setdefault(name, []).append((op, value))
        self.rows = vtable.rows(QueryContext(constraints, plan.used))
        self.rowid = 0
        self.Next()

    def Next(self):   # noqa: N802
        self.row = next(self.rows, None)
        self.rowid += 1

    def Eof(self):   # noqa: N802
        return self.row is None

    def Rowid(self):   # noqa: N802
        return self.rowid

    def Column(self, number):   # noqa: N802
        # The hot path (called once per cell): generators yield native types already,
        # which the per-table tests check, so no conversion happens here.
        if number < 0:
            return self.rowid
        return self.row.get(self.names[number])

    def Close(self):   # noqa: N802
        self.rows = iter(())


class TupleCursor(Cursor):
    """The cursor over a generator that yields tuples (tables/context.py tuple_rows).

    Rows arrive in SQLite's column order (VirtualTable.rows) and SQLite never asks for column -1
    (it reads a rowid through Rowid), so a cell is row[number] and nothing more: once per cell.
    """

    def Column(self, number):   # noqa: N802
        return self.row[number]
