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


def tuple_rows(generator):
    """Declares that `generator` yields each row as a tuple, one value per declared column in the
    table's order (None where the query does not use it), instead of a dict.

    For tables that list hundreds of thousands of rows (file): the cursor then hands SQLite a
    cell as `row[number]`, and no dict is built per row.
    """
    generator.tuple_rows = True
    return generator


def exact_like(**columns):
    """Declares, per column, which LIKE patterns `generator` answers exactly: column=predicate(pattern).

    When a query's only constraint reaching the generator is `column LIKE pattern` and the
    predicate holds, every row the generator yields matches the pattern, so the planner tells
    SQLite not to check it again (one call into Python per row fewer). A predicate must say
    False whenever the generator may return a row the pattern does not match.
    """
    def mark(generator):
        generator.exact_like = columns
        return generator
    return mark
