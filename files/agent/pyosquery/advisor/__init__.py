"""The plan advisor: what a query will cost on this host, and why, before any host runs it.

    advisor = Advisor(engine)                   # one per session: counts are taken once
    advice = advisor.advise("SELECT * FROM file WHERE path LIKE '/%%'", interval=3600)
    advice.findings[0].severity, advice.findings[0].message     # "blocking", "path LIKE '/%%' walks ..."

It reads SQLite's EXPLAIN QUERY PLAN with the plans our planner made for each loop, the
tables' declarations and cost hints (specs/costs.tsv), and cheap counts of this host.
The advisor needs the engine's own connection: over a daemon's socket only the SQL travels.
"""

from pyosquery.advisor import rules, sqltext
from pyosquery.advisor.plan import read_plan
from pyosquery.advisor.rules import SEVERITIES, Finding
from pyosquery.advisor.sizes import Sizes
from pyosquery.tables.spec import load_costs

__all__ = ["Advice", "Advisor", "Finding", "SEVERITIES"]

UNKNOWN_COST = "unknown"     # tables added at run time (extensions, config tables) have no hint


class Advice:
    """The findings for one query, worst first, and the cost hint of each table it reads."""

    def __init__(self, sql, findings, tables):
        self.sql = sql
        self.findings = sorted(findings, key=lambda f: -SEVERITIES.index(f.severity))
        self.tables = tables

    @property
    def blocking(self):
        return [f for f in self.findings if f.severity == "blocking"]

    def as_dict(self):
        return {"query": self.sql, "tables": self.tables, "findings": [f.as_dict() for f in self.findings]}


class _Context:     # pylint: disable=too-few-public-methods,too-many-instance-attributes  # what the rules read
    def __init__(self, advisor, sql, loops, interval, snapshot):    # pylint: disable=too-many-arguments
        self.engine = advisor.engine
        self.costs = advisor.costs
        self.sizes = advisor.sizes
        self.sql = sql
        self.tokens = sqltext.tokenize(sql)
        self.loops = loops
        self.interval = interval
        self.snapshot = snapshot

    def clause(self, loop, column):
        return sqltext.clause(self.sql, self.tokens, loop.shown.lower(), column)


class Advisor:
    """Advice for queries against one local engine; counts of this host are taken once per Advisor."""

    def __init__(self, engine, costs=None):
        self.engine = engine
        self.costs = load_costs() if costs is None else costs
        self.sizes = Sizes(engine, self.costs)

    def advise(self, sql, interval=None, snapshot=False):
        """Advice for the first statement of `sql`; `interval` (seconds) enables the output-size rule.
        A query that does not prepare raises the engine's error."""
        loops = read_plan(self.engine, sql)
        ctx = _Context(self, sql, loops, interval, snapshot)
        findings = [finding for rule in rules.RULES for finding in rule(ctx)]
        return Advice(sql, findings, self._tables(loops))

    def _tables(self, loops):
        tables = []
        for name in dict.fromkeys(loop.table for loop in loops if loop.table):
            cost = self.costs.get(name)
            size = self.sizes.table(name)
            tables.append({"table": name, "cost": cost.cost if cost else UNKNOWN_COST,
                           "reason": cost.reason if cost else "no cost hint: a table added at run time",
                           "now": size.text if size else None})
        return tables
