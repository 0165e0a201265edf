"""osqueryi's output modes: pretty, json, json_pretty, line, csv, list, column.

osquery hands every value to its printer as a string, so numbers print as text in JSON
(`{"0":"0"}`) and NULL prints as the `nullvalue` setting ("" by default).
"""

import csv
import io
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
    """osqueryi --json: one object per line, keys sorted, all values strings."""
    objects = []
    for row in _cells(rows, settings.nullvalue):
        record = dict(zip(names, row))
        objects.append("  " + json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return "[\n" + ",\n".join(objects) + "\n]\n"


def as_json_pretty(names, rows, settings):
    """osqueryi --json_pretty: rapidjson's pretty writer, two-space indent."""
    records = [dict(zip(names, row)) for row in _cells(rows, settings.nullvalue)]
    return json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def line_mode(names, rows, settings):
    """`name = value` per column, names right-aligned, a blank line between rows."""
    width = max([5] + [len(name) for name in names])
    blocks = []
    for row in _cells(rows, settings.nullvalue):
        blocks.append("".join("%*s = %s\n" % (width, name, value) for name, value in zip(names, row)))
    return "\n".join(blocks)


def csv_mode(names, rows, settings):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\n")
    if settings.header:
        writer.writerow(names)
    writer.writerows(_cells(rows, settings.nullvalue))
    return out.getvalue()


def list_mode(names, rows, settings):
    lines = [settings.separator.join(names)] if settings.header else []
    lines += [settings.separator.join(row) for row in _cells(rows, settings.nullvalue)]
    return "".join(line + "\n" for line in lines)


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


def render(names, rows, settings):
    """The text osqueryi prints for one result in the current mode."""
    return PRINTERS[settings.mode](names, rows, settings)
