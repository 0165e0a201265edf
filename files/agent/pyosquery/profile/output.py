"""The profile tool's output lines: `U:0C:1M:2F:0D:1 name (1/2): utilization: v cpu_time: v ...`.

Each rank prefix is coloured blue, green, yellow or red by rank when the output is a terminal.
"""

# ANSI background colours with black (or white on red) text, indexed by rank
COLOURS = ("\033[46m\033[30m", "\033[42m\033[30m", "\033[43m\033[30m", "\033[41m\033[1;37m")
RESET = "\033[0m"


def _prefix(scored, colour):
    parts = []
    for metric, (rank, _value) in scored.items():
        text = "%s:%d" % (metric[0].upper(), rank)
        parts.append(COLOURS[rank] + text + RESET if colour else text)
    return "".join(parts) + " "


def line(label, scored, ranks=True, colour=False):
    """One summary line for `label` (e.g. `name (1/3)` or `name   avg`); `ranks=False` is osquery's `-n`."""
    values = " ".join("%s: %s" % (metric, value) for metric, (_rank, value) in scored.items())
    return "%s%s: %s" % (_prefix(scored, colour) if ranks else "", label, values)


def round_label(name, index, rounds):
    return "%s (%d/%d)" % (name, index, rounds)


def average_label(name):
    return "%s   avg" % name


def regression_line(name, metric, before, now):
    return "%s: %s regressed from rank %d (%s) to rank %d (%s)" % (name, metric, before[0], before[1],
                                                                   now[0], now[1])
