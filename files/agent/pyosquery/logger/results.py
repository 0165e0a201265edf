"""The results and snapshots logs: osquery's JSON lines, key order included.

Filesystem plugin: `<logger_path>/pyosqueryd.results.log` and `pyosqueryd.snapshots.log`,
appended one JSON document per line, chmod'ed to logger_mode on every write (as osquery
does, so a mode changed by hand is put back), and rotated by size when logger_rotate is on.
The stdout plugin writes the same lines to standard output.
"""

import json
import logging
import math
import os
import sys
import time

from pyosquery import private_dirs
from pyosquery.logger import whole_lines
from pyosquery.scheduler import diff

LOG = logging.getLogger("pyosquery.logger")
RESULTS = "pyosqueryd.results.log"
SNAPSHOTS = "pyosqueryd.snapshots.log"


class NotWritten(Exception):
    """Lines that could not be written (the file is as before); the log has reported it."""


def calendar_time(now):
    """asctime of UTC plus ' UTC', e.g. 'Mon May  2 22:27:32 2016 UTC'."""
    return time.asctime(time.gmtime(now)) + " UTC"


def _dumps(document):
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def header(name, host, now, epoch, counter, numerics):
    """The fields every line carries, in osquery's order."""
    return [("name", name), ("hostIdentifier", host), ("calendarTime", calendar_time(now)),
            ("unixTime", int(now)), ("epoch", epoch), ("counter", counter), ("numerics", numerics)]


def _decorated(item, counter):
    """The header then the decorations: one `decorations` object, or with decorations_top_level each
    decoration as a key of its own (osquery lets one overwrite a header key of the same name)."""
    fields = header(item["name"], item["host"], item["now"], item["epoch"], counter, item["numerics"])
    decorations = item.get("decorations")
    if decorations:
        fields += list(decorations.items()) if item.get("top_level") else [("decorations", decorations)]
    return fields


def _columns(rows, numerics):
    """Rows as logged: every value a string, or with logger_numerics numbers as JSON numbers
    (a double that JSON cannot hold, inf or nan, stays text)."""
    if not numerics:
        return [diff.as_text(row) for row in rows]
    return [{name: diff.cell_text(value) if isinstance(value, float) and not math.isfinite(value) else value
             for name, value in row.items()} for row in rows]


def event_lines(item, added, removed):
    """Event format: one line per changed row, removed rows first."""
    base = _decorated(item, item["counter"])
    lines = []
    for action, rows in (("removed", removed), ("added", added)):
        for row in _columns(rows, item["numerics"]):
            lines.append(_dumps(dict(base + [("columns", row), ("action", action)])))
    return lines


def batch_line(item, added, removed):
    """Batch format (logger_event_type=false): one line per run."""
    numerics = item["numerics"]
    fields = [("diffResults", {"removed": _columns(removed, numerics), "added": _columns(added, numerics)})]
    return _dumps(dict(fields + _decorated(item, item["counter"])))


def snapshot_lines(item, rows, per_row=False):
    """Snapshot: one line per run, or one per row with logger_snapshot_event_type."""
    base = _decorated(item, 0)
    rows = _columns(rows, item["numerics"])
    if per_row:
        return [_dumps(dict(base + [("columns", row), ("action", "snapshot")])) for row in rows]
    return [_dumps(dict([("snapshot", rows), ("action", "snapshot")] + base))]


class ResultsLog:
    """Where result lines go: files under logger_path, or stdout."""

    def __init__(self, values):
        self.to_stdout = "stdout" in [p.strip() for p in values.logger_plugin.split(",")]
        self.directory = values.logger_path
        self.mode = int(values.logger_mode, 8)
        self.rotate = values.logger_rotate
        self.rotate_size = values.logger_rotate_size
        self.rotate_max = values.logger_rotate_max_files
        self.failing = set()        # files whose last write failed (reported once, until one succeeds)
        self.refused = None         # why the directory is not used, if it is not
        if not self.to_stdout:
            try:
                private_dirs.ensure(self.directory, 0o750)
            except OSError as error:
                self.refused = error.strerror or str(error)
                LOG.error("Cannot log results to %s: %s", self.directory, self.refused)
                return
            for name in (RESULTS, SNAPSHOTS):
                self._repair(os.path.join(self.directory, name))
            try:
                self._append(RESULTS, [])     # osquery creates the results file at start-up
            except NotWritten:
                pass                          # reported; later writes try again

    def results(self, lines):
        self._append(RESULTS, lines)

    def snapshots(self, lines):
        self._append(SNAPSHOTS, lines)

    @staticmethod
    def _repair(path):
        removed = whole_lines.repair_tail(path)
        if removed:
            LOG.warning("%s ended in a partial line (%d bytes, left by an interrupted write): removed",
                        path, removed)

    def _append(self, name, lines):
        """Write the lines whole or not at all; raises NotWritten, reporting only the first of failures in a row."""
        if self.to_stdout:
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
            return
        path = os.path.join(self.directory, name)
        if self.refused:
            raise NotWritten(path)
        try:
            if self.rotate and lines:
                self._maybe_rotate(path)
            fd = os.open(path, whole_lines.OPEN_FLAGS, self.mode)
            try:
                whole_lines.append(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
                os.fchmod(fd, self.mode)
            finally:
                os.close(fd)
        except OSError as error:
            if path not in self.failing:
                self.failing.add(path)
                LOG.error("Cannot write results to %s: %s; differential results are logged again once it can be "
                          "written, snapshots until then are lost", path, error.strerror or error)
            raise NotWritten(path) from error
        if path in self.failing:
            self.failing.discard(path)
            LOG.info("Writing results to %s again", path)

    def _maybe_rotate(self, path):
        try:
            if os.path.getsize(path) < self.rotate_size:
                return
        except OSError:
            return
        # shift file.N -> file.N+1 from the oldest; files past the limit are dropped.
        # osquery zstd-compresses from file.2 on; the standard library has no zstd, so ours stay plain.
        for number in range(self.rotate_max, 0, -1):
            older = "%s.%d" % (path, number)
            if os.path.exists(older):
                if number >= self.rotate_max:
                    os.unlink(older)
                else:
                    os.replace(older, "%s.%d" % (path, number + 1))
        os.replace(path, path + ".1")
