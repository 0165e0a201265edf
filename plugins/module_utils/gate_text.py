"""Figures in words, for the gate's reasons: "3,100 ms", "1.5 MiB", "2.0 % of a CPU"."""

FIGURE_NAMES = {"cpu_ms": "CPU", "wall_ms": "wall time", "memory": "memory growth", "output_bytes": "output"}


def milliseconds(value):
    if value is None:
        return "n/a"
    return "%.1f ms" % value if value < 10 else "{:,.0f} ms".format(value)


def size(value):
    if value is None:
        return "n/a"
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if value >= scale:
            return "%.1f %s" % (value / float(scale), unit)
    return "%d B" % value


def figure(name, value):
    """A per-run figure in its unit."""
    return milliseconds(value) if name in ("cpu_ms", "wall_ms") else size(value)


def share(value):
    """0.125 -> "12.5 %"."""
    return "%.1f %%" % (100 * value) if value < 0.1 else "%.0f %%" % (100 * value)


def cpu_share(value):
    """A duty cycle (CPU time over wall time) as a share of one CPU."""
    return "%.2f %% of a CPU" % (100 * value) if value < 0.01 else "%.1f %% of a CPU" % (100 * value)


def plural(count, word, words=None):
    return "%d %s" % (count, word if count == 1 else (words or word + "s"))


def listing(items, limit=5):
    """"a; b; c" with at most `limit` items and a count of the rest."""
    items = list(items)
    shown = "; ".join(items[:limit])
    return shown + ("; and %d more" % (len(items) - limit) if len(items) > limit else "")
