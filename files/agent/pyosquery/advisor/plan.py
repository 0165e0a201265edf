"""Read a query's plan: SQLite's EXPLAIN QUERY PLAN, with our planner's plan behind each loop.

Each `SCAN <name> VIRTUAL TABLE INDEX <n>:...` line names plan n of the engine's PlanBook, which
knows the table, the constraints pushed to its generator and where their values come from; the
book's observer hands over the constant values (the LIKE patterns) while SQLite plans the query.
"""

import re

# "SCAN h VIRTUAL TABLE INDEX 4:path=", "SCAN s EXISTS VIRTUAL TABLE INDEX 2:pid="
_VIRTUAL = re.compile(r"^(?:SCAN|SEARCH) (.+?)(?: EXISTS)? VIRTUAL TABLE INDEX (\d+):")
_LOOP = re.compile(r"^(?:SCAN|SEARCH) (?!CONSTANT ROW)")


class Node:
    """One line of EXPLAIN QUERY PLAN, with its children in plan order."""

    def __init__(self, node_id, parent, detail):
        self.id = node_id
        self.parent = parent
        self.detail = detail
        self.children = []

    @property
    def nested(self):
        """True when the loops below run once per row of the loops around this node: a
        correlated subquery, or the terms of an OR (`MULTI-INDEX OR`, `INDEX n`) in a join."""
        return self.detail.startswith(("CORRELATED ", "MULTI-INDEX OR", "INDEX "))


class Loop(Node):
    """A loop over a table (or over a subquery's or CTE's rows, with `table` None)."""

    def __init__(self, node_id, parent, detail, book, values):   # pylint: disable=too-many-arguments
        Node.__init__(self, node_id, parent, detail)
        self.shown = self.table = self.plan = None
        self.values = ()
        match = _VIRTUAL.match(detail)
        if match:
            self.shown, number = match.group(1), int(match.group(2))
            self.plan = book.plans[number]
            self.table = self.plan.table
            self.values = values.get(number, ())
        self.outer = []     # loops whose every row runs this one again, outermost first
        self.context = "QUERY"      # the parent line: "LIST SUBQUERY 1", "MATERIALIZE r", ...

    @property
    def full_scan(self):
        return self.plan is not None and not self.plan.pushed

    def constants(self, column, op):
        """The constant values given to `column` with operator `op` (LIKE patterns, = values)."""
        found = []
        for values in self.values:
            for (name, operator), value in zip(self.plan.pushed, values):
                if name == column and operator == op and value is not None and value not in found:
                    found.append(value)
        return found


def _explain(engine, sql):
    """EXPLAIN QUERY PLAN rows of the first statement of `sql`, and the constants seen while planning."""
    values = {}
    with engine.lock:
        engine.plans.observer = lambda number, constants: values.setdefault(number, []).append(constants)
        try:
            rows = engine.explain(sql)
        finally:
            engine.plans.observer = None
    return rows, values


def read_plan(engine, sql):
    """The loops of the first statement of `sql`, in plan order, each with its outer loops."""
    rows, values = _explain(engine, sql)
    nodes = {0: Node(0, None, "QUERY")}
    loops = []
    for node_id, parent, _unused, detail in rows:
        if _LOOP.match(detail):
            node = Loop(node_id, parent, detail, engine.plans, values)
            loops.append(node)
        else:
            node = Node(node_id, parent, detail)
        nodes[node_id] = node
        nodes.get(parent, nodes[0]).children.append(node)
    for loop in loops:
        loop.outer = _outer(loop, nodes)
        loop.context = nodes.get(loop.parent, nodes[0]).detail
    return loops


def _outer(node, nodes):
    """The loops that run `node` again for each of their rows: the loops before it under the
    same parent, and when that parent is nested (a correlated subquery...), the loops around it."""
    parent = nodes.get(node.parent, nodes[0])
    before = []
    for sibling in parent.children:
        if sibling is node:
            break
        if isinstance(sibling, Loop):
            before.append(sibling)
    if parent.nested:
        before = _outer(parent, nodes) + before
    return before
