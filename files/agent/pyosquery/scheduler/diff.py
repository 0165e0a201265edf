"""Differential results: what was added and removed since a query's previous run."""

from collections import Counter


def as_records(names, rows):
    """Rows as the scheduler keeps them: {column: value}, NULL as '', numbers kept as numbers.

    Numbers stay numbers so that logger_numerics can log them as JSON numbers, as osquery keeps
    its rows typed; `as_text` gives osquery's default all-strings form.
    """
    result = []
    for row in rows:
        record = {}
        for name, value in zip(names, row):
            if value is None:
                value = ""
            elif isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            record[name] = value
        result.append(record)
    return result


def cell_text(value):
    """A kept value as osquery's text: a double in its shortest round-trip form."""
    if isinstance(value, float):
        return repr(value)
    return value if isinstance(value, str) else str(value)


def as_text(record):
    return {name: cell_text(value) for name, value in record.items()}


def output_size(names, rows):
    """osquery's output_size: per cell, the column name's length plus 8 for a number or
    the text's length (NULL counts as empty text)."""
    name_bytes = sum(len(name) for name in names)
    total = 0
    for row in rows:
        total += name_bytes
        for value in row:
            if isinstance(value, (int, float)):
                total += 8
            elif value is not None:
                total += len(value)
    return total


def _key(row):
    # compared as text: rows stored before numbers were kept typed still match their typed successors
    return tuple(sorted((name, cell_text(value)) for name, value in row.items()))


def differential(previous, current):
    """(added, removed) as a multiset diff: a current row equal to a stored one cancels it."""
    stored = Counter(_key(row) for row in previous)
    added = []
    for row in current:
        key = _key(row)
        if stored[key] > 0:
            stored[key] -= 1
        else:
            added.append(row)
    removed = []
    for row in previous:
        key = _key(row)
        if stored[key] > 0:
            stored[key] -= 1
            removed.append(row)
    return added, removed
