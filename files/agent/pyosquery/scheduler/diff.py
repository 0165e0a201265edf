"""Differential results: what was added and removed since a query's previous run."""

from collections import Counter


def as_strings(names, rows):
    """Rows as osquery logs them: {column: string}, NULL as ''."""
    result = []
    for row in rows:
        record = {}
        for name, value in zip(names, row):
            if value is None:
                record[name] = ""
            elif isinstance(value, float):
                record[name] = repr(value)
            elif isinstance(value, bytes):
                record[name] = value.decode("utf-8", "replace")
            else:
                record[name] = str(value)
        result.append(record)
    return result


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
    return tuple(sorted(row.items()))


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
