"""The slide-38 rewrite: `t.key IN (SELECT key FROM t WHERE cond)` becomes `cond` on the outer t.

Only when the subquery selects the column it is compared with, that column is a key of the table
(an `index` column: one row per value, so the two forms return the same rows), and the condition
reads nothing but that table's columns. The rewrite is planned again before it is offered: it must
prepare, return the same columns, and read the table once.
"""

from pyosquery.advisor import sqltext
from pyosquery.advisor.plan import read_plan


def _condition(ctx, sub, qualifier):
    """The subquery's condition with its column references moved onto `qualifier` (None: bare)."""
    columns = {c.name for c in ctx.engine.tables[sub.table].columns}
    own = {sub.alias or sub.table, sub.table}
    tokens, (first, last) = ctx.tokens, sub.condition
    prefix = qualifier + "." if qualifier else ""
    edits = []
    for index in range(first, last + 1):
        token, word = tokens[index], sqltext.name(tokens[index])
        if word is None or token.kind == "string" or (index + 1 <= last and tokens[index + 1].text in (".", "(")):
            continue
        qualified = index - 2 >= first and tokens[index - 1].text == "."
        if qualified and sqltext.name(tokens[index - 2]) not in own:
            return None                 # a column of the outer query: correlated, not the same rows
        if word not in columns:
            if word in sqltext.CONDITION_WORDS or sqltext.name(tokens[index - 1]) == "collate":
                continue
            return None
        start = tokens[index - 2].start if qualified else token.start
        edits.append((start, token.start, prefix))
    text = ctx.sql[tokens[first].start:tokens[last].end]
    base = tokens[first].start
    for start, end, replacement in reversed(edits):
        text = text[:start - base] + replacement + text[end - base:]
    return text if sub.bare else "(%s)" % text


def _reads_once(ctx, sql, table):
    """True when `sql` prepares, returns the original's columns, and reads `table` in one loop."""
    try:
        same = ctx.engine.columns(sql) == ctx.engine.columns(ctx.sql)
        return same and sum(1 for loop in read_plan(ctx.engine, sql) if loop.table == table) == 1
    except Exception:   # pylint: disable=broad-except  # a candidate that does not prepare is not offered
        return False


def single_scan(ctx, table, loops):
    """(rewritten SQL or None, the IN clause's text or None) for a table read in several loops."""
    keys = {c.name for c in ctx.engine.tables[table].columns if c.index}
    shown = {loop.shown.lower() for loop in loops}
    for sub in sqltext.in_subqueries(ctx.tokens):
        if sub.table != table or sub.column != sub.selected:
            continue
        clause = ctx.sql[sub.start:sub.end]
        if sub.condition is None or sub.column not in keys or (sub.qualifier and sub.qualifier not in shown):
            return None, clause
        # bare columns first (slide 38's own words); qualified when bare ones are ambiguous
        qualifiers = [sub.qualifier] if sub.qualifier else [None] + sorted(shown - {sub.alias})
        for qualifier in qualifiers:
            condition = _condition(ctx, sub, qualifier)
            if condition is None:
                break
            candidate = ctx.sql[:sub.start] + condition + ctx.sql[sub.end:]
            if _reads_once(ctx, candidate, table):
                return candidate, clause
        return None, clause
    return None, None
