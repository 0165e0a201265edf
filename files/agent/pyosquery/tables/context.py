"""What a generator sees of a query: its constraints and the columns it uses."""

EQ = "="
LIKE = "LIKE"
GLOB = "GLOB"


class QueryContext:
    """Constraints pushed down by the planner, and the set of columns the query reads.

    `constraints` maps a column name to a list of (operator, value) pairs; an `IN (...)`
    list arrives as one pair whose value is a frozenset. Generators may ignore any of it:
    SQLite still checks every constraint on the rows they return.
    """

    __slots__ = ("constraints", "used")

    def __init__(self, constraints=None, used=None):
        self.constraints = constraints or {}
        self.used = used

    def uses(self, column):
        """True when the query reads `column` (so the generator should fill it)."""
        return self.used is None or column in self.used

    def equals(self, column):
        """The set of values `column` must equal, or None when it is not constrained so.

        `a = 1 AND a = 2` gives the empty set: no row can match.
        """
        result = None
        for op, value in self.constraints.get(column, ()):
            if op != EQ:
                continue
            values = value if isinstance(value, frozenset) else frozenset((value,))
            result = values if result is None else result & values
        return result

    def patterns(self, column, op=LIKE):
        """The LIKE (or GLOB) patterns given for `column`."""
        return [value for o, value in self.constraints.get(column, ()) if o == op]

    def has(self, column):
        """True when any constraint on `column` reached the generator."""
        return bool(self.constraints.get(column))
