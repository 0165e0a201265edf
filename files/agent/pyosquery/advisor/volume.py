"""How much a scheduled query may log per day: estimated rows x row width x runs per day.

An upper bound from the plan: a full scan returns the table's size, a lookup by a constant one
row per value, a lookup fed by another table one row per outer row; a WHERE on other columns
only removes rows. Aggregates return one row (unknown with GROUP BY). Sizes the advisor cannot
count cheaply (LIKE patterns, tables without a counted unit) leave the volume unknown.
"""

from pyosquery.advisor import sqltext
from pyosquery.sql.planner import CONSTANT, SET
from pyosquery.tables.context import EQ

# The JSON around each result row in an event-format log line (name, hostIdentifier,
# calendarTime, unixTime, epoch, counter, numerics, action), in bytes
ENVELOPE = 200
# Bytes of one value in the log line, by declared type (numbers print as text: "12345")
VALUE_BYTES = {"INTEGER": 6, "BIGINT": 8, "UNSIGNED BIGINT": 8, "DOUBLE": 10, "TEXT": 24}
AGGREGATES = ("AggStep", "AggStep1", "AggFinal", "AggValue")


def row_bytes(columns):
    """Bytes of one logged row: `"name":"value",` per column, plus the line's envelope."""
    return ENVELOPE + sum(len(name) + 6 + VALUE_BYTES.get(decltype.upper(), 12) for name, decltype in columns)


def _aggregated(engine, sql):
    return any(row[1] in AGGREGATES for row in engine.explain(sql, query_plan=False))


def _loop_rows(loop, sizes):
    if loop.table is None:
        return None
    if loop.full_scan:
        size = sizes.table(loop.table)
        return size.count if size else None
    pushed = list(zip(loop.plan.pushed, loop.plan.sources))
    constants = [len(loop.constants(column, EQ)) for (column, op), source in pushed
                 if op == EQ and source == CONSTANT]
    if constants:
        return min(constants)
    if SET in loop.plan.sources:       # at most the whole table
        size = sizes.table(loop.table)
        return size.count if size else None
    if all(op == EQ for _, op in loop.plan.pushed):
        return 1                        # a lookup fed by the row of an outer loop
    return None                         # a pattern: no cheap count


def _limit(tokens):
    """The statement's last top-level `LIMIT n`, or None."""
    depth, found = 0, None
    for index, token in enumerate(tokens):
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if depth == 0 and sqltext.name(token) == "limit" and index + 1 < len(tokens) \
                and tokens[index + 1].kind == "number":
            found = int(float(tokens[index + 1].text))
    return found


def estimate_rows(ctx):
    """Upper bound of the rows one run returns, or None when it cannot be counted cheaply."""
    top = [loop for loop in ctx.loops if loop.parent == 0]
    if _aggregated(ctx.engine, ctx.sql):
        grouped = any(sqltext.name(t) == "group" for t in ctx.tokens)
        rows = None if grouped else 1
    elif not top:
        rows = 1 if not ctx.loops else None     # SELECT 1, or only subqueries we cannot size
    else:
        rows = 1
        for loop in top:
            count = _loop_rows(loop, ctx.sizes)
            if count is None:
                return None
            rows *= count
    limit = _limit(ctx.tokens)
    if rows is not None and limit is not None:
        rows = min(rows, limit)
    return rows
