"""The one planner: turns a table's column flags into SQLite plans (apsw BestIndexObject).

Constraints on `index`, `optimized`, `required` and `additional` columns are handed to the
generator (`=` and `IN` as sets, LIKE and GLOB as patterns); SQLite re-checks every
constraint on the returned rows, so a generator may always return more than asked. A plan
that lacks all of a table's required columns gets a prohibitive cost, so SQLite prefers any
join order that supplies them; if it still has to run it, the cursor raises our own error.
"""

import apsw

from pyosquery.tables.context import EQ, GLOB, LIKE

OPERATORS = {
    apsw.SQLITE_INDEX_CONSTRAINT_EQ: EQ,
    apsw.SQLITE_INDEX_CONSTRAINT_LIKE: LIKE,
    apsw.SQLITE_INDEX_CONSTRAINT_GLOB: GLOB,
}

FULL_SCAN_COST = 1e6
MISSING_REQUIRED_COST = 1e15


class Plan:
    """What one BestIndex answer promises the cursor: pushed constraints and used columns."""

    __slots__ = ("pushed", "used", "missing_required")

    def __init__(self, pushed, used, missing_required):
        self.pushed = pushed                  # ((column name, operator), ...) in argv order
        self.used = used                      # frozenset of column names, or None for all
        self.missing_required = missing_required

    def key(self):
        return (self.pushed, self.used, self.missing_required)

    def describe(self):
        """Shown by EXPLAIN QUERY PLAN after `VIRTUAL TABLE INDEX n:`."""
        if self.missing_required:
            return "missing-required"
        return ",".join(name + op for name, op in self.pushed)


class Planner:
    """Plans for one table; plans are kept by number for the cursor's Filter call."""

    def __init__(self, table):
        self.table = table
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
        self.plans = []
        self._numbers = {}

    def best_index(self, info):
        pushed = []
        for i in range(info.nConstraint):
            op = OPERATORS.get(info.get_aConstraint_op(i))
            column = info.get_aConstraint_iColumn(i)
            if op is None or column < 0 or not info.get_aConstraint_usable(i):
                continue
            name = self.names[column]
            if name not in self.pushable:
                continue
            pushed.append((name, op))
            info.set_aConstraintUsage_argvIndex(i, len(pushed))
            if op == EQ and info.get_aConstraintUsage_in(i):
                info.set_aConstraintUsage_in(i, True)   # the whole IN list arrives as one set
            if name in self.additional and op == EQ:
                # `additional = v` is an input (users.include_remote = 1), not always echoed in
                # rows: SQLite must not drop the rows for it. LIKE/GLOB are still re-checked.
                info.set_aConstraintUsage_omit(i, True)
        constrained = {name for name, _ in pushed}
        missing = bool(self.required) and not (self.required & constrained)
        plan = Plan(tuple(pushed), self._used(info.colUsed), missing)
        info.idxNum = self._number(plan)
        info.idxStr = plan.describe()
        info.estimatedCost = self._cost(plan)
        return True

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

    def _number(self, plan):
        key = plan.key()
        number = self._numbers.get(key)
        if number is None:
            number = len(self.plans)
            self.plans.append(plan)
            self._numbers[key] = number
        return number
