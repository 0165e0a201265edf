"""rpm_packages: the RPM database, as `rpm` itself reads it (Berkeley DB, NDB or SQLite alike).

A host without the `rpm` command or without an RPM database (Debian, Alpine) has no rows.
"""

import shutil

from pyosquery.tables import _os

RPM = "rpm"
RPM_TIMEOUT = 60
# (column, rpm tag) in the order of the query format; "(none)" is rpm's missing value
TAGS = (("name", "NAME"), ("version", "VERSION"), ("release", "RELEASE"), ("source", "SOURCERPM"),
        ("size", "SIZE"), ("sha1", "SHA1HEADER"), ("arch", "ARCH"), ("epoch", "EPOCH"),
        ("install_time", "INSTALLTIME"), ("vendor", "VENDOR"), ("package_group", "GROUP"))
INTEGERS = ("size", "epoch", "install_time")


def parse(text):
    """Rows from `rpm -qa --qf` output: one tab-separated line per package."""
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) != len(TAGS):
            continue
        row = {}
        for (column, _tag), value in zip(TAGS, fields):
            value = "" if value == "(none)" else value
            row[column] = (int(value) if value.isdigit() else 0) if column in INTEGERS else value
        yield row


def gen_rpm_packages(context):
    program = shutil.which(RPM)
    if program is None:
        return
    names = context.equals("name")
    query_format = "\\t".join("%%{%s}" % tag for _column, tag in TAGS) + "\\n"
    # `rpm -q NAME...` reads only the named packages; unknown names print to stderr, not rows
    targets = sorted(names) if names else ["-a"]
    yield from parse(_os.command_output([program, "-q", "--qf", query_format] + targets, RPM_TIMEOUT))
