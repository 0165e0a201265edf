"""The one planner: turns a table's column flags into SQLite plans (apsw BestIndexObject).

Constraints on `index`, `optimized`, `required` and `additional` columns are handed to the
generator (`=` and `IN` as sets, LIKE and GLOB as patterns, ranges on an evented table's
`time`); SQLite re-checks every constraint on the returned rows, so a generator may always
return more than asked, except a
LIKE the generator declares it answers exactly (tables/context.py exact_like) when it is the
plan's only pushed constraint: that one SQLite is told not to re-check (one call into Python per
row fewer on a recursive file listing). A plan
that lacks all of a table's required columns gets a prohibitive cost, so SQLite prefers any
join order that supplies them; if it still has to run it, the cursor raises our own error.

Plans are numbered in one PlanBook per engine, across tables, so the `INDEX n` that EXPLAIN
QUERY PLAN shows names the table and the plan (the plan advisor reads them back that way).
"""

import apsw

from pyosquery.tables.context import EQ, GLOB, LIKE

OPERATORS = {
    apsw.SQLITE_INDEX_CONSTRAINT_EQ: EQ,
    apsw.SQLITE_INDEX_CONSTRAINT_LIKE: LIKE,
    apsw.SQLITE_INDEX_CONSTRAINT_GLOB: GLOB,
}
# Ranges reach only the columns a generator answers them on with an index: an evented table's
# `time` (the events buffer's (subscriber, time) index). SQLite still checks them on the rows.
RANGES = {
    apsw.SQLITE_INDEX_CONSTRAINT_GT: ">",
    apsw.SQLITE_INDEX_CONSTRAINT_GE: ">=",
    apsw.SQLITE_INDEX_CONSTRAINT_LT: "<",
    apsw.SQLITE_INDEX_CONSTRAINT_LE: "<=",
}

FULL_SCAN_COST = 1e6
MISSING_REQUIRED_COST = 1e15

# Where a pushed constraint's value comes from, as SQLite tells BestIndex
CONSTANT = "constant"     # a literal, known while planning
SET = "set"               # an IN list or subquery, handed over once as a set
RUNTIME = "runtime"       # known only while running: another table's row, an outer query, an expression


class Plan:
    """What one BestIndex answer promises the cursor: pushed constraints and used columns."""

    __slots__ = ("table", "pushed", "sources", "used", "missing_required")

    def __init__(self, table, pushed, sources, used, missing_required):   # pylint: disable=too-many-arguments
        self.table = table                    # the table's name
        self.pushed = pushed                  # ((column name, operator), ...) in argv order
        self.sources = sources                # where each pushed value comes from (CONSTANT, SET, RUNTIME)
        self.used = used                      # frozenset of column names, or None for all
        self.missing_required = missing_required

    def key(self):
        return (self.table, self.pushed, self.sources, self.used, self.missing_required)

    def describe(self):
        """Shown by EXPLAIN QUERY PLAN after `VIRTUAL TABLE INDEX n:`."""
        if self.missing_required:
            return "missing-required"
        return ",".join(name + op for name, op in self.pushed)


class PlanBook:
    """Every plan of one engine, numbered across its tables, for the cursors' Filter calls.

    `observer`, when set (with the engine's lock held), hears each BestIndex answer as
    (plan number, the constant value of each pushed constraint or None): the advisor reads
    the patterns a query gives that way, without keeping every literal in the book.
    """

    def __init__(self):
        self.plans = []
        self._numbers = {}
        self.observer = None

    def number(self, plan):
        key = plan.key()
        number = self._numbers.get(key)
        if number is None:
            number = len(self.plans)
            self.plans.append(plan)
            self._numbers[key] = number
        return number


class Planner:
    """Plans for one table, numbered in the engine's PlanBook."""

    def __init__(self, table, book=None, exact_like=None):
        self.table = table
        self.exact_like = exact_like or {}     # column name -> predicate(pattern), see _omit_exact
        # positions of SQLite's columns (osquery columns then alias columns) -> names
        names = []
        for col in table.columns:
            names.append(col.name)
        for col in table.columns:
            names.extend(col.name for _ in col.aliases)
        self.names = names
        self.pushable = {c.name for c in table.columns if c.pushed_down}
        self.additional = {c.name for c in table.columns if c.additional}
        self.required = set(table.required)
        self.ranged = {"time"} if table.evented else set()
        self.book = PlanBook() if book is None else book

    def best_index(self, info):
        pushed, sources, values = [], [], []
        for i in range(info.nConstraint):
            code = info.get_aConstraint_op(i)
            op = OPERATORS.get(code)
            column = info.get_aConstraint_iColumn(i)
            if column < 0 or not info.get_aConstraint_usable(i):
                continue
            name = self.names[column]
            if op is None and name in self.ranged:
                op = RANGES.get(code)
            if op is None or name not in self.pushable:
                continue
            pushed.append((name, op))
            info.set_aConstraintUsage_argvIndex(i, len(pushed))
            value = info.get_aConstraint_rhs(i)
            values.append(value)
            if op == EQ and info.get_aConstraintUsage_in(i):
                info.set_aConstraintUsage_in(i, True)   # the whole IN list arrives as one set
                sources.append(SET)
            else:
                sources.append(RUNTIME if value is None else CONSTANT)
            if name in self.additional and op == EQ:
                # `additional = v` is an input (users.include_remote = 1), not always echoed in
                # rows: SQLite must not drop the rows for it. LIKE/GLOB are still re-checked.
                info.set_aConstraintUsage_omit(i, True)
        self._omit_exact(info, pushed, values)
        constrained = {name for name, _ in pushed}
        missing = bool(self.required) and not (self.required & constrained)
        plan = Plan(self.table.name, tuple(pushed), tuple(sources), self._used(info.colUsed), missing)
        info.idxNum = self.book.number(plan)
        info.idxStr = plan.describe()
        info.estimatedCost = self._cost(plan)
        if self.book.observer is not None:
            self.book.observer(info.idxNum, tuple(values))
        return True

    def _omit_exact(self, info, pushed, values):
        """Tell SQLite not to re-check `column LIKE pattern` when the generator's rows match it exactly.

        Only for a plan with that one pushed constraint: with others the generator's sources are
        a union (path LIKE a AND directory = b lists both), so each must still be checked. The
        pattern must be a literal known now: a value known only while running is never judged.
        """
        if len(pushed) != 1 or pushed[0][1] != LIKE or values[0] is None:
            return
        exact = self.exact_like.get(pushed[0][0])
        if exact is not None and exact(values[0]):
            for i in range(info.nConstraint):
                if info.get_aConstraintUsage_argvIndex(i) == 1:
                    info.set_aConstraintUsage_omit(i, True)

    def _used(self, col_used):
        if 63 in col_used and len(self.names) > 64:
            return None             # SQLite's bit 63 means "column 63 or later": all used
        return frozenset(self.names[i] for i in col_used)

    def _cost(self, plan):
        if plan.missing_required:
            return MISSING_REQUIRED_COST
        equal = sum(1 for _, op in plan.pushed if op == EQ)
        patterns = len(plan.pushed) - equal
        return FULL_SCAN_COST / (1000.0 ** equal) / (10.0 ** patterns)
