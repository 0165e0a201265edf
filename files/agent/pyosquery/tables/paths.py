"""Expand osquery's path patterns: `%` matches within one level, `%%` recurses.

`WHERE path LIKE '/etc/%.conf'` lists /etc's *.conf; `'/usr/%%'` lists everything below
/usr. Walks never follow symlinked directories, so a link loop cannot trap a query.
"""

import glob
import os

from pyosquery.tables import _os


def walk(top):
    """Every path below directory `top` (not `top` itself), depth first, without following links."""
    stack = [top]
    while stack:
        current = stack.pop()
        try:
            entries = os.scandir(current)
        except OSError as error:
            if _os.skipped(error):
                continue
            raise
        with entries:
            for entry in entries:
                yield entry.path
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                except OSError:
                    continue


def _glob(pattern):
    # osquery's '%' is glob's '*'; the rest of the pattern is literal
    escaped = glob.escape(pattern.replace("%", "\0")).replace("\0", "*")
    return sorted(glob.glob(escaped))


def expand(pattern):
    """Paths matching one LIKE pattern, the osquery way. Relative patterns match nothing."""
    if not pattern.startswith("/"):
        return
    if "%" not in pattern:
        if os.path.lexists(pattern):
            yield pattern
        return
    if pattern.endswith("%%"):
        base = pattern[:-2]
        if base.endswith("/"):
            tops = [base.rstrip("/") or "/"]
        else:
            tops = _glob(base + "%")
            for top in tops:
                yield top
        for top in tops:
            if os.path.isdir(top) and not os.path.islink(top):
                for path in walk(top):
                    yield path
        return
    for path in _glob(pattern):
        yield path


def listing(directory):
    """The direct entries of a directory, as `WHERE directory = ...` asks."""
    if not isinstance(directory, str):
        return []
    return [os.path.join(directory, name) for name in sorted(_os.list_dir(directory))]


def requested(context, path_column="path", directory_column="directory"):
    """(path, directory) for every path a file-like table's constraints name.

    Sources: `path =`, `path LIKE`, `directory =` and `directory LIKE`. A listed directory
    keeps the spelling the query gave, so SQLite's own re-check of `directory = ...` holds.
    """
    sources = [[(path, os.path.dirname(path)) for path in context.equals(path_column) or ()]]
    for pattern in context.patterns(path_column):
        sources.append((path, os.path.dirname(path)) for path in expand(pattern))
    directories = list(context.equals(directory_column) or ())
    for pattern in context.patterns(directory_column):
        directories.extend(expand(pattern))
    for directory in directories:
        sources.append((path, directory) for path in listing(directory))
    seen = set() if len(sources) > 1 else None
    for source in sources:
        for path, directory in source:
            if not isinstance(path, str):
                continue
            if seen is not None:
                if path in seen:
                    continue
                seen.add(path)
            yield path, directory
