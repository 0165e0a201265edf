"""osqueryi's output modes: pretty, json, json_pretty, line, csv, list, column.

json, line, csv and list print row by row as the query produces them (`write`), so a large
result costs the shell one row of memory; pretty, column and json_pretty need every row first.

osquery hands every value to its printer as a string, so numbers print as text in JSON
(`{"0":"0"}`) and NULL prints as the `nullvalue` setting ("" by default).
"""

import csv
import json

MODES = ("column", "csv", "json", "line", "list", "pretty")


class Settings:
    """What the printer needs to know: mode, headers, separator, nullvalue."""

    def __init__(self, mode="pretty", header=True, separator="|", nullvalue=""):
        self.widths = []        # `.width`: column mode widths, 0 or missing = automatic
        self.mode = mode
        self.header = header
        self.separator = separator
        self.nullvalue = nullvalue


def _text(value, nullvalue):
    if value is None:
        return nullvalue
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _cells(rows, nullvalue):
    return [[_text(value, nullvalue) for value in row] for row in rows]


def _stream_cells(rows, nullvalue):
    return ([_text(value, nullvalue) for value in row] for row in rows)


def pretty(names, rows, settings):
    """ASCII table with `+---+` borders; nothing at all for no rows."""
    if not rows:
        return ""
    cells = _cells(rows, settings.nullvalue)
    widths = [len(name) for name in names]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(values):
        return "|" + "|".join(" %s " % v.ljust(w) for v, w in zip(values, widths)) + "|\n"

    parts = [rule]
    if settings.header:
        parts += [line(names), rule]
    parts += [line(row) for row in cells]
    parts.append(rule)
    return "".join(parts)


def as_json(names, rows, settings):
    """osqueryi --json: one object per line, keys sorted, all values strings (streamed row by row)."""
    yield "[\n"
    for number, row in enumerate(_stream_cells(rows, settings.nullvalue)):
        record = json.dumps(dict(zip(names, row)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        yield ("  " if number == 0 else ",\n  ") + record
    yield "\n]\n"


def as_json_pretty(names, rows, settings):
    """osqueryi --json_pretty: rapidjson's pretty writer, two-space indent."""
    records = [dict(zip(names, row)) for row in _cells(rows, settings.nullvalue)]
    return json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def line_mode(names, rows, settings):
    """`name = value` per column, names right-aligned, a blank line between rows (streamed)."""
    width = max([5] + [len(name) for name in names])
    for number, row in enumerate(_stream_cells(rows, settings.nullvalue)):
        yield ("" if number == 0 else "\n") + "".join(
            "%*s = %s\n" % (width, name, value) for name, value in zip(names, row))


class _Line:
    """A file-like sink for csv.writer that keeps the one line it was given."""

    text = ""

    def write(self, text):
        self.text = text


def csv_mode(names, rows, settings):
    """RFC 4180 quoting, ',' between values, a header line (streamed)."""
    line = _Line()
    writer = csv.writer(line, delimiter=",", lineterminator="\n")
    if settings.header:
        writer.writerow(names)
        yield line.text
    for row in _stream_cells(rows, settings.nullvalue):
        writer.writerow(row)
        yield line.text


def list_mode(names, rows, settings):
    """Values joined by the separator, the header first (streamed)."""
    if settings.header:
        yield settings.separator.join(names) + "\n"
    for row in _stream_cells(rows, settings.nullvalue):
        yield settings.separator.join(row) + "\n"


def column_mode(names, rows, settings):
    """Columns as wide as max(10, name, first value), with a dashes line under the header."""
    cells = _cells(rows, settings.nullvalue)
    first = cells[0] if cells else [""] * len(names)
    widths = [max(10, len(name), len(value)) for name, value in zip(names, first)]
    widths = [given if given > 0 else auto
              for given, auto in zip(settings.widths + [0] * len(widths), widths)]
    lines = []
    if settings.header:
        lines.append("  ".join(n.ljust(w) for n, w in zip(names, widths)))
        lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "".join(line.rstrip() + "\n" for line in lines)


PRINTERS = {"pretty": pretty, "json": as_json, "json_pretty": as_json_pretty, "line": line_mode,
            "csv": csv_mode, "list": list_mode, "column": column_mode}
# modes that print each row as it comes; the others need every row first (column widths, one document)
STREAMED = ("json", "line", "csv", "list")


def chunks(names, rows, settings):
    """The text osqueryi prints for one result, in pieces; streamed modes read `rows` lazily."""
    if settings.mode in STREAMED:
        return PRINTERS[settings.mode](names, rows, settings)
    return [PRINTERS[settings.mode](names, list(rows), settings)]


def render(names, rows, settings):
    """The text osqueryi prints for one result in the current mode."""
    return "".join(chunks(names, rows, settings))


def write(out, names, rows, settings):
    """Print one result to `out` as it is produced: a streamed mode never holds every row."""
    for piece in chunks(names, rows, settings):
        out.write(piece)
