"""Advice as text for people (`pyosqueryi --advise`, `.advise`) and as JSON for machines."""

import json


def _table_line(table):
    now = ", %s now" % table["now"] if table["now"] else ""
    return "%s: %s%s (%s)\n" % (table["table"], table["cost"], now, table["reason"])


def finding_lines(finding, indent="  "):
    """The lines of one finding: a heading, the message, then clause, now and rewrite when known."""
    lines = ["%s %s: %s" % (finding.severity, finding.kind, finding.table or "-"), indent + finding.message]
    for label, value in (("clause", finding.clause), ("now", finding.now), ("rewrite", finding.rewrite)):
        if value:
            lines.append("%s%-8s %s" % (indent, label + ":", value))
    return lines


def finding_line(finding):
    """One finding on one line, for line-oriented readers (`--config_check`, the pack module)."""
    heading, message, *details = finding_lines(finding, indent="")
    return "; ".join(["%s: %s" % (heading, message)] + [" ".join(detail.split(None, 1)) for detail in details])


def text(advice):
    """Each table with its cost hint, then each finding, worst first; `No findings.` when clean."""
    parts = [_table_line(table) for table in advice.tables]
    for finding in advice.findings:
        parts.append("\n" + "".join(line + "\n" for line in finding_lines(finding)))
    if not advice.findings:
        parts.append("No findings.\n")
    return "".join(parts)


def as_json(advice):
    return json.dumps(advice.as_dict(), indent=2) + "\n"
