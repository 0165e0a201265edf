"""The advisor's rules: each reads the plan's loops (plan.Loop) and yields Findings.

A rule says what is wrong, where (the table and the query's own clause), what it costs on this
host now (sizes.Sizes) and, where one exists, a rewrite. Severities: `info` (worth knowing),
`warning` (costs more than it needs to), `blocking` (fails, or walks the whole host).
"""

import collections

from pyosquery.advisor import rewrite, volume
from pyosquery.advisor.sizes import Size, number
from pyosquery.sql.planner import RUNTIME
from pyosquery.tables.context import LIKE

SEVERITIES = ("info", "warning", "blocking")

# A cross join is blocking from this many row combinations on (the talk's six users: 25^6)
CROSS_JOIN_BLOCKING = 10 ** 6
CROSS_JOIN_INFO = 1000          # below this, with cheap tables only, it is worth knowing, no more
# The filesystem logger keeps logger_rotate_max_files x logger_rotate_size (25 x 25 MiB) by default:
# a query logging more than that per day pushes out a day of every query's results on its own.
DAILY_BYTES_BLOCKING = 25 * 25 * 1024 * 1024
DAILY_BYTES_WARNING = DAILY_BYTES_BLOCKING // 10

_FIELDS = ("severity", "kind", "table", "clause", "message", "now", "count", "rewrite")


class Finding(collections.namedtuple("Finding", _FIELDS)):
    """One piece of advice. `now` says what it costs on this host now, `count` is its number."""

    __slots__ = ()

    def as_dict(self):
        return dict(zip(_FIELDS, self))


def _cost(ctx, table):
    """The table's cost class, or None for a table without a hint (added at run time)."""
    hint = ctx.costs.get(table)
    return hint.cost if hint else None


def _finding(severity, kind, loop_or_table, clause, message, size=None, rewritten=None):
    # pylint: disable=too-many-arguments  # one place that builds every finding
    table = getattr(loop_or_table, "table", loop_or_table)
    return Finding(severity, kind, table, clause, message, size.text if size else None,
                   size.count if size else None, rewritten)


def missing_required(ctx):
    for loop in ctx.loops:
        if loop.plan is not None and loop.plan.missing_required:
            required = ctx.engine.tables[loop.table].required
            yield _finding("blocking", "missing-required", loop, "FROM %s" % loop.shown,
                           "%s needs a constraint on %s (for example WHERE %s = '...'): the query fails when it runs"
                           % (loop.table, " or ".join(required), required[0]))


def _how(loop):
    where = "" if loop.parent == 0 else " (%s)" % loop.context.lower()
    if loop.full_scan:
        return "a full scan" + where
    columns = "/".join(sorted({column for column, _ in loop.plan.pushed}))
    if loop.outer and RUNTIME in loop.plan.sources:
        return "a lookup by %s for each row of %s%s" % (columns, " x ".join(o.shown for o in loop.outer), where)
    return "a lookup by %s%s" % (columns, where)


def scanned_twice(ctx):
    """A table read by separate parts of the query (a subquery, a CTE, a UNION), once in full at least.
    Reads inside one join are the join rules' business."""
    by_table = collections.OrderedDict()
    for loop in ctx.loops:
        if loop.table is not None:
            by_table.setdefault(loop.table, []).append(loop)
    for table, loops in by_table.items():
        nests = {(loop.outer[0] if loop.outer else loop).id for loop in loops}
        if len(nests) < 2 or not any(loop.full_scan for loop in loops):
            continue
        rewritten, clause = rewrite.single_scan(ctx, table, loops)
        message = "%s is read %d times: %s" % (table, len(loops), ", ".join(_how(loop) for loop in loops))
        if rewritten:
            message += "; filtering the outer %s on the subquery's condition reads it once" % table
        yield _finding("warning", "scanned-twice", table, clause or "FROM %s" % ", ".join(l.shown for l in loops),
                       message, ctx.sizes.table(table), rewritten)


def recursive_root(pattern):
    """(directory a `%%` pattern walks from, True when nothing before it is a wildcard), or None."""
    if not isinstance(pattern, str) or not pattern.startswith("/") or not pattern.endswith("%%"):
        return None
    fixed = pattern[:pattern.index("%")]
    root = fixed[:fixed.rindex("/")] or "/"
    return root, "%" not in pattern[:-2]


def expensive_scans(ctx):
    for loop in ctx.loops:
        if _cost(ctx, loop.table) != "expensive" or loop.plan.missing_required:
            continue
        cost = ctx.costs[loop.table]
        if loop.full_scan:
            keys = [c.name for c in ctx.engine.tables[loop.table].columns if c.pushed_down and not c.hidden]
            hint = "; a constraint on %s reads less" % " or ".join(keys) if keys else ""
            yield _finding("warning", "expensive-scan", loop, "FROM %s" % loop.shown,
                           "a full scan of %s, which %s%s" % (loop.table, cost.reason, hint), ctx.sizes.table(loop.table))
            continue
        for column in ("path", "directory") if cost.unit == "files" else ():
            for pattern in loop.constants(column, LIKE):
                found = recursive_root(pattern)
                if found is None:
                    continue
                root, whole = found
                severity = "blocking" if root == "/" and whole else "warning"
                clause = ctx.clause(loop, column) or "%s LIKE '%s'" % (column, pattern)
                yield _finding(severity, "expensive-scan", loop, clause,
                               "%s LIKE '%s' walks every directory below %s (%s: %s)" % (
                                   column, pattern, root, loop.table, cost.reason), ctx.sizes.files(root))


def _driving_size(ctx, loop):
    first = loop.outer[0]
    size = ctx.sizes.table(first.table) if first.table else None
    if size is None:
        return None
    return size._replace(text="%s has %s now" % (first.shown, size.text))


def join_fed(ctx):
    for loop in ctx.loops:
        if not loop.outer or loop.plan is None:
            continue
        fed = [column for (column, _), source in zip(loop.plan.pushed, loop.plan.sources) if source == RUNTIME]
        if not fed:
            continue
        column = fed[0]
        expensive = _cost(ctx, loop.table) == "expensive"
        outer = " x ".join(o.shown for o in loop.outer)
        message = "%s runs once per row of %s, for the %s each row gives" % (loop.table, outer, column)
        if expensive:
            message += " (%s is expensive: it %s)" % (loop.table, ctx.costs[loop.table].reason)
        clause = ctx.clause(loop, column) or "%s.%s from %s" % (loop.shown, column, outer)
        yield _finding("warning" if expensive else "info", "join-fed", loop, clause, message,
                       _driving_size(ctx, loop))


def cross_joins(ctx):
    last_inner = collections.OrderedDict()       # driving loop -> the last inner loop read in full
    for loop in ctx.loops:
        if loop.outer and loop.full_scan:
            last_inner[loop.outer[0].id] = loop
    for loop in last_inner.values():
        chain = loop.outer + [loop]
        scanned = [link for link in chain if link.full_scan or link is chain[0]]
        sizes = [ctx.sizes.table(link.table) if link.table else None for link in scanned]
        combinations = None
        if all(sizes):
            combinations = 1
            for size in sizes:
                combinations *= size.count
        classes = [_cost(ctx, link.table) for link in scanned]
        severity = "warning"
        if "expensive" in classes[1:] or (combinations or 0) >= CROSS_JOIN_BLOCKING:
            severity = "blocking"
        elif combinations is not None and combinations <= CROSS_JOIN_INFO and set(classes) == {"cheap"}:
            severity = "info"
        inner = [link.shown for link in scanned[1:]]
        if len(inner) == 1:
            message = "%s is read in full once per row of %s" % (inner[0], " x ".join(o.shown for o in loop.outer))
        else:
            message = "%s are each read in full once per row of the tables before them" % ", ".join(inner)
        message += (": no constraint from them reaches the generator (a cross join, or a join on a column "
                    "it cannot look up)")
        size = None
        if combinations is not None:
            size = Size(combinations, "%s = %s row combination%s now" % (
                " x ".join(number(s.count) for s in sizes), number(combinations), "" if combinations == 1 else "s"))
        yield _finding(severity, "cross-join", loop, "FROM " + ", ".join(link.shown for link in chain), message, size)


def large_output(ctx):
    if not ctx.interval:
        return
    rows = volume.estimate_rows(ctx)
    if rows is None:
        return
    width = volume.row_bytes(ctx.engine.columns(ctx.sql))
    daily = int(rows * width * 86400.0 / ctx.interval)
    if daily < DAILY_BYTES_WARNING:
        return
    if daily >= DAILY_BYTES_BLOCKING:
        severity, share = "blocking", "more than all"
    else:
        severity, share = "warning", "over a tenth"
    message = ("this query may log %s MB a day per host, %s of the %d MB the filesystem logger keeps by default"
               " (logger_rotate_max_files x logger_rotate_size)"
               % (number(daily // 10 ** 6), share, DAILY_BYTES_BLOCKING // 10 ** 6))
    runs = "every run (snapshot)" if ctx.snapshot else "at most: differential results log only what changed"
    now = Size(daily, "up to %s rows x ~%d bytes every %d s, %s" % (number(rows), width, ctx.interval, runs))
    top = next((loop for loop in ctx.loops if loop.parent == 0 and loop.table), None)
    yield _finding(severity, "large-output", top.table if top else None, "interval %d" % ctx.interval, message, now)


RULES = (missing_required, scanned_twice, expensive_scans, join_fed, cross_joins, large_output)
