"""What full scans walk on this host now, counted cheaply: the unit each table's cost grows with.

`rows` counts the table itself (never declared for expensive tables), `processes` lists /proc, and
`files` sums the inodes in use of the filesystems below a path (statfs, through our `mounts`
table): an upper bound of what a recursive walk visits, without walking. Each count is taken
once per Sizes, so a config check with hundreds of queries counts each thing once.
"""

import collections

from pyosquery.tables.context import QueryContext

Size = collections.namedtuple("Size", "count text")


def number(count):
    return "{:,}".format(count)


def counted(count, unit):
    """'1 row', '607 processes'."""
    return "%s %s" % (number(count), unit[:-1] if count == 1 and unit == "rows" else unit)


class Sizes:
    """Counts for one advice session (a shell command, a config check)."""

    def __init__(self, engine, costs):
        self.engine = engine
        self.costs = costs
        self._known = {}

    def _once(self, key, measure):
        if key not in self._known:
            self._known[key] = measure()
        return self._known[key]

    def processes(self):
        from pyosquery.tables.processes import pids   # pylint: disable=import-outside-toplevel  # only when counted
        return self._once("processes", lambda: len(pids(QueryContext())))

    def table(self, name):
        """Size of a full scan of `name` in its unit, or None when its unit is not counted."""
        cost = self.costs.get(name)
        unit = cost.unit if cost else "-"
        if unit == "processes":
            count = self.processes()
            return Size(count, counted(count, "processes"))
        if unit == "rows":
            count = self._once(("rows", name), lambda: self._count_rows(name))
            return None if count is None else Size(count, counted(count, "rows"))
        return None

    def _count_rows(self, name):
        try:
            return self.engine.query("SELECT count(*) FROM %s" % name)[1][0][0]
        except Exception:   # pylint: disable=broad-except  # a table that fails to count is simply not sized
            return None

    def files(self, root):
        """Size of a recursive walk from directory `root`: inodes in use below it."""
        return self._once(("files", root), lambda: self._files(root))

    def _mounts(self):
        return self._once("mounts", lambda: self.engine.query_dicts(
            "SELECT device, path, type, inodes, inodes_free FROM mounts"))

    def _files(self, root):
        below = root.rstrip("/") + "/"
        mounts = self._mounts()
        holding = max((m for m in mounts if below.startswith(m["path"].rstrip("/") + "/")),
                      key=lambda m: len(m["path"]), default=None)
        walked = [m for m in mounts if m is holding or m["path"].startswith(below)]
        counted, pseudo, total = set(), set(), 0
        for mount in walked:
            if not mount["inodes"]:
                pseudo.add(mount["type"])
                continue
            key = (mount["device"], mount["inodes"])     # bind mounts of one filesystem count once
            if key not in counted:
                counted.add(key)
                total += mount["inodes"] - mount["inodes_free"]
        text = "up to %s files: the inodes in use on the filesystems holding %s and below it" % (number(total), root)
        if pseudo:
            text += ", plus %s (no inode count)" % ", ".join(sorted(pseudo))
        return Size(total, text)
