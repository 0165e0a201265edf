"""Checks shared by the table tests: a generator keeps the contract of tables/context.py.

The engine converts values on the way out, so a generator emitting "12" for an INTEGER would
still look right through SQL; these checks call the generator itself.
"""

from pyosquery.sql.vtable import load_generator
from pyosquery.tables.context import QueryContext
from pyosquery.tables.spec import load_tables

TABLES = load_tables()
NATIVE = {"TEXT": str, "INTEGER": int, "BIGINT": int, "UNSIGNED_BIGINT": int, "DOUBLE": float,
          "BLOB": bytes}
# what the tests looped over while it held no rows: conftest fails such a test (a check that ran zero times)
EMPTY_LOOPS = []


class Rows(list):
    """A table's rows that notice a loop over none of them: a `for` over no rows checks nothing."""

    def __init__(self, what, rows):
        super().__init__(rows)
        self.what = what

    def __iter__(self):
        if not self:
            EMPTY_LOOPS.append(self.what)
        return super().__iter__()


def generate(name, constraints=None, used=None):
    """Rows straight from the table's generator, as a list of dicts (tuple rows too, one value per column)."""
    context = QueryContext(constraints or {}, None if used is None else frozenset(used))
    generator = load_generator(TABLES[name])
    rows = generator(context)
    if getattr(generator, "tuple_rows", False):
        names = [c.name for c in TABLES[name].columns]
        rows = list(rows)
        assert all(len(row) == len(names) for row in rows), "%s: a tuple row is not one value per column" % name
        rows = [dict(zip(names, row)) for row in rows]
    return Rows(name, rows)


def assert_contract(name, rows=None):
    """Every key is a declared column and every value has the column's native type."""
    columns = {c.name: c.type for c in TABLES[name].columns}
    rows = generate(name) if rows is None else rows
    for row in rows:
        assert set(row) <= set(columns), "%s: undeclared %s" % (name, set(row) - set(columns))
        for key, value in row.items():
            if value is not None:
                # exactly the native type: a bool is an int subclass, and is not what the table declares
                exact = type(value) is NATIVE[columns[key]]   # noqa: E721  pylint: disable=unidiomatic-typecheck
                assert exact, "%s.%s = %r is not %s" % (name, key, value, columns[key])
    return rows


def visible_columns(name):
    return [c.name for c in TABLES[name].columns if not c.hidden]
