"""Write a benchmark's result table into benchmarks/README.md between its markers."""

import os
import platform
import time

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")


def write_section(name, table):
    """Replace the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` (added if missing)."""
    start, end = "<!-- %s:start -->" % name, "<!-- %s:end -->" % name
    stamp = "Last run: %s on %s, %d CPUs, Python %s.\n\n" % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), platform.platform(), os.cpu_count(),
        platform.python_version())
    block = "%s\n%s%s\n%s" % (start, stamp, table, end)
    text = open(README, encoding="utf-8").read() if os.path.exists(README) else "# Benchmarks\n"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(README, "w", encoding="utf-8") as handle:
        handle.write(text)


def publish(name, header, rows):
    """Print a markdown table of `rows` under `header` and write it into the README section `name`."""
    lines = ["| %s |" % " | ".join(header), "|" + " --- |" * len(header)]
    lines += ["| %s |" % " | ".join(row) for row in rows]
    table = "\n".join(lines)
    print(table)
    write_section(name, table)
