"""Table declarations as data: read `specs/schema.tsv`, `specs/tables.tsv` and `specs/costs.tsv`.

schema.tsv holds osquery's column declarations (name, type, flags) for Linux, one row per
column in osquery's order; tables.tsv says which tables the agent serves, from which
generator module, with a description and an example. Everything else (the SQLite schema,
`.schema`, the planner's view of a table, the per-table tests) is derived from these.

costs.tsv gives each served table the cost of a full scan, for the plan advisor: a class
(cheap: a few small files; moderate: a small read per process or package; expensive: walks a
filesystem, reads whole files, or reads large data per process), the unit the work grows
with, counted cheaply on the host (`rows`: the table's own count(*), never for expensive tables;
`processes`; `files`: files below a path pattern's root; `-`: not counted), and why.
"""

import os
from collections import OrderedDict, namedtuple

SPEC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "specs")

# osquery's column types and the SQLite type each is declared with.
SQL_TYPES = {
    "TEXT": "TEXT",
    "INTEGER": "INTEGER",
    "BIGINT": "BIGINT",
    "UNSIGNED_BIGINT": "UNSIGNED BIGINT",
    "DOUBLE": "DOUBLE",
    "BLOB": "BLOB",
}


class Column:
    """One declared column: its name, osquery type and flags."""

    __slots__ = ("name", "type", "description", "index", "required", "optimized",
                 "hidden", "additional", "collate", "aliases")

    def __init__(self, name, type_, flags, description=""):
        if type_ not in SQL_TYPES:
            raise ValueError("column %s: unknown type %r" % (name, type_))
        self.name = name
        self.type = type_
        self.description = description
        words = set()
        self.collate = None
        self.aliases = ()
        for flag in flags:
            key, _, value = flag.partition("=")
            if key == "collate":
                self.collate = value
            elif key == "aliases":
                self.aliases = tuple(value.split("|"))
            elif key != "platform":
                words.add(key)
        self.index = "index" in words
        self.required = "required" in words
        self.optimized = "optimized" in words
        self.hidden = "hidden" in words
        self.additional = "additional" in words

    @property
    def sql_type(self):
        return SQL_TYPES[self.type]

    @property
    def pushed_down(self):
        """True when constraints on this column reach the generator."""
        return self.index or self.required or self.optimized or self.additional


class Table:
    """A served table: name, generator module, columns in osquery's order."""

    __slots__ = ("name", "module", "attributes", "description", "example", "columns")

    def __init__(self, name, module, attributes, description, example, columns):
        self.name = name
        self.module = module
        self.attributes = attributes
        self.description = description
        self.example = example
        self.columns = columns

    @property
    def evented(self):
        return "event_subscriber" in self.attributes

    @property
    def required(self):
        """Names of the required columns: a query must constrain at least one."""
        return [c.name for c in self.columns if c.required]

    def create_sql(self):
        """The CREATE TABLE statement, in the form osquery's `.schema` prints."""
        parts = [_column_sql(c.name, c.sql_type, c.hidden, c.collate) for c in self.columns]
        # aliases come last, hidden, in the planner's order (they read their column's value)
        parts += [_column_sql(alias, c.sql_type, True, None) for c in self.columns for alias in c.aliases]
        keys = [c.name for c in self.columns if c.index or c.additional]
        tail = ""
        if keys:
            parts.append("PRIMARY KEY (%s)" % ", ".join("`%s`" % k for k in keys))
            tail = " WITHOUT ROWID"
        return "CREATE TABLE %s(%s)%s;" % (self.name, ", ".join(parts), tail)


def _column_sql(name, sql_type, hidden, collate):
    text = "`%s` %s" % (name, sql_type)
    if hidden:
        text += " HIDDEN"
    if collate:
        # osquery's built-in NOCASE prints in capitals; its own collations (version...) do not.
        text += " COLLATE " + (collate.upper() if collate == "nocase" else collate)
    return text


def _read_tsv(name):
    path = os.path.join(SPEC_DIR, name)
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            yield path, number, line.split("\t")


def load_tables():
    """Return an OrderedDict of served table name -> Table, from the spec files."""
    columns = OrderedDict()
    for path, number, fields in _read_tsv("schema.tsv"):
        if len(fields) != 5:
            raise ValueError("%s:%d: expected 5 tab-separated fields" % (path, number))
        table, name, type_, flags, description = fields
        flags = [] if flags == "-" else flags.split(",")
        columns.setdefault(table, []).append(Column(name, type_, flags, description))
    tables = OrderedDict()
    for path, number, fields in _read_tsv("tables.tsv"):
        if len(fields) != 5:
            raise ValueError("%s:%d: expected 5 tab-separated fields" % (path, number))
        name, module, attributes, description, example = fields
        if name not in columns:
            raise ValueError("%s:%d: table %s has no columns in schema.tsv" % (path, number, name))
        tables[name] = Table(name, None if module == "-" else module,
                             attributes.split(",") if attributes else [],
                             description, example, columns[name])
    return tables


def load_foreign_tables(name="foreign.tsv"):
    """osquery's tables of other platforms, as --enable_foreign declares them: name -> Table.

    foreign.tsv: `table<TAB>platforms<TAB>columns`, columns as `name[:TYPE[:flag...]]` separated by
    spaces (TEXT when no type is given), in osquery's order. They have no module: like osquery's
    foreign tables, they return no rows here.
    """
    tables = OrderedDict()
    for path, number, fields in _read_tsv(name):
        if len(fields) != 3:
            raise ValueError("%s:%d: expected 3 tab-separated fields" % (path, number))
        table, platforms, declared = fields
        try:
            columns = [Column(parts[0], parts[1] if len(parts) > 1 else "TEXT", parts[2:]) for parts in
                       (text.split(":") for text in declared.split())]
        except ValueError as error:
            raise ValueError("%s:%d: %s: %s" % (path, number, table, error)) from None
        tables[table] = Table(table, None, ["foreign"], "A %s table: no rows on this platform." % platforms,
                              "", columns)
    return tables


COST_CLASSES = ("cheap", "moderate", "expensive")
COST_UNITS = ("rows", "processes", "files", "-")

Cost = namedtuple("Cost", "cost unit reason")


def load_costs(name="costs.tsv"):
    """Return {table name: Cost} from specs/costs.tsv (or the file `name`), each row checked."""
    costs = {}
    for path, number, fields in _read_tsv(name):
        if len(fields) != 4:
            raise ValueError("%s:%d: expected 4 tab-separated fields" % (path, number))
        name, cost, unit, reason = fields
        if cost not in COST_CLASSES or unit not in COST_UNITS or not reason.strip():
            raise ValueError("%s:%d: %s: cost must be one of %s, unit one of %s, and a reason given"
                             % (path, number, name, "/".join(COST_CLASSES), "/".join(COST_UNITS)))
        if name in costs:
            raise ValueError("%s:%d: %s listed twice" % (path, number, name))
        costs[name] = Cost(cost, unit, reason)
    return costs
